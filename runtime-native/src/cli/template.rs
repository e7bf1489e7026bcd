//! The project templates, built into the binary: each file's place in a new project and its
//! text, with `{{name}}` (the project's and plugin's name), `{{crate}}` (the name as a Rust
//! identifier, the module's file name) and `{{vlugin_version}}` filled in.

/// The plugin's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// A crate built to wasm32 with `vlugin`.
    Rust,
    /// A module script (`.mjs`), run by Valor's JavaScript engine.
    JavaScript,
}

/// One file of a template: where it goes (a template itself) and its text.
pub struct File {
    /// Where it goes in the new project, with `{{...}}` to fill in.
    pub path: &'static str,
    /// Its text, with `{{...}}` to fill in.
    pub text: &'static str,
}

macro_rules! file {
    ($path:literal, $source:literal) => {
        File {
            path: $path,
            text: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/", $source)),
        }
    };
}

const RUST: &[File] = &[
    file!("Cargo.toml", "rust/workspace.Cargo.toml"),
    file!(".cargo/config.toml", "rust/cargo-config.toml"),
    file!(".gitignore", "rust/gitignore"),
    file!("README.md", "rust/README.md"),
    file!("plugins/{{name}}/Cargo.toml", "rust/plugin.Cargo.toml"),
    file!("plugins/{{name}}/src/lib.rs", "rust/plugin.lib.rs"),
    file!("web/plugins.json", "rust/plugins.json"),
    file!("web/index.html", "web/index.html"),
];

const JAVASCRIPT: &[File] = &[
    file!(".gitignore", "js/gitignore"),
    file!("README.md", "js/README.md"),
    file!("package.json", "js/package.json"),
    file!("plugins/{{name}}.mjs", "js/plugin.mjs"),
    file!("plugins/{{name}}.test.mjs", "js/plugin.test.mjs"),
    file!("web/plugins.json", "js/plugins.json"),
    file!("web/index.html", "web/index.html"),
];

/// The files of a project of `language`.
pub fn files(language: Language) -> &'static [File] {
    match language {
        Language::Rust => RUST,
        Language::JavaScript => JAVASCRIPT,
    }
}

/// `text` with the placeholders filled in for the project `name`.
pub fn render(text: &str, name: &str) -> String {
    text.replace("{{name}}", name)
        .replace("{{crate}}", &name.replace('-', "_"))
        .replace("{{vlugin_version}}", env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_is_filled() {
        for language in [Language::Rust, Language::JavaScript] {
            for file in files(language) {
                let text = render(file.text, "my-app");
                assert!(!text.contains("{{"), "{} keeps a placeholder", file.path);
                assert!(!render(file.path, "my-app").contains("{{"));
            }
        }
    }

    #[test]
    fn the_plugin_depends_on_vlugin_by_version_only() {
        let manifest = render(RUST[4].text, "my-app");
        let line = manifest.lines().find(|l| l.starts_with("vlugin")).unwrap();
        assert!(line.contains(&format!("version = \"{}\"", env!("CARGO_PKG_VERSION"))));
        assert!(!line.contains("path"));
    }
}
