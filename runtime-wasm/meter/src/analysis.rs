//! Where fuel is charged, and how much: the cost of each region of code, and which functions
//! are so small and loop-free that their callers pay for them.
//!
//! A function without loops that calls only such functions (no indirect calls) runs a bounded
//! number of instructions. Charging it at its own entry would cost more than its work in code
//! built for size, where most small functions are not inlined; its callers charge its cost at
//! their own entry or loop header instead. Every loop and every function that can recurse still
//! charges itself, so fuel still bounds the instructions run per call into the plugin.

use wasmparser::{FunctionBody, Operator, Parser, Payload, TypeRef};

/// The most instructions a function may cost for its callers to pay for it.
const MAX_INLINED_COST: u64 = 2_000;

/// What the rewriter needs to know about the module's functions.
pub struct Analysis {
    imported_functions: u32,
    /// Each function the module defines, as read.
    functions: Vec<Summary>,
    /// For each function the module defines: its cost if its callers pay for it.
    inlined: Vec<Option<u64>>,
}

impl Analysis {
    /// Reads every function body of `module` once.
    pub fn of(module: &[u8]) -> Result<Self, String> {
        let mut imported_functions = 0;
        let mut functions = Vec::new();
        for payload in Parser::new(0).parse_all(module) {
            match payload.map_err(super::invalid)? {
                Payload::ImportSection(reader) => {
                    for import in reader.into_imports() {
                        if matches!(import.map_err(super::invalid)?.ty, TypeRef::Func(_)) {
                            imported_functions += 1;
                        }
                    }
                }
                Payload::CodeSectionEntry(body) => functions.push(Summary::of(&body)?),
                _ => {}
            }
        }
        let mut analysis = Self {
            imported_functions,
            inlined: vec![None; functions.len()],
            functions: Vec::new(),
        };
        // Functions whose callees are all known to be bounded, until nothing changes: what is
        // left can loop or recurse.
        let mut changed = true;
        while changed {
            changed = false;
            for (index, function) in functions.iter().enumerate() {
                if analysis.inlined[index].is_some() || function.unbounded {
                    continue;
                }
                let callees: Option<Vec<u64>> = function
                    .callees
                    .iter()
                    .map(|&callee| analysis.call_cost(callee))
                    .collect();
                if let Some(callees) = callees {
                    let cost = callees
                        .iter()
                        .fold(function.own, |sum, c| sum.saturating_add(*c));
                    if cost <= MAX_INLINED_COST {
                        analysis.inlined[index] = Some(cost);
                        changed = true;
                    }
                }
            }
        }
        analysis.functions = functions;
        Ok(analysis)
    }

    /// Whether the `index`th function the module defines is paid for by its callers.
    pub fn is_inlined(&self, index: usize) -> bool {
        self.inlined.get(index).is_some_and(Option::is_some)
    }

    /// What a call to `function` costs its caller beyond the call itself: nothing for an import
    /// (the host's work is bounded by its own limits) or a function that charges itself; the
    /// cost of an inlined one; `None` while that is not known.
    fn call_cost(&self, function: u32) -> Option<u64> {
        let Some(defined) = function.checked_sub(self.imported_functions) else {
            return Some(0);
        };
        self.inlined.get(defined as usize).copied().flatten()
    }

    /// The cost of each region of the `index`th function the module defines (see
    /// [`Summary::regions`]): its own instructions, and its calls to inlined functions.
    pub fn region_costs(&self, index: usize) -> Vec<u64> {
        let Some(function) = self.functions.get(index) else {
            return vec![1];
        };
        function
            .regions
            .iter()
            .map(|region| {
                region.callees.iter().fold(region.own, |sum, &callee| {
                    sum.saturating_add(self.call_cost(callee).unwrap_or(0))
                })
            })
            .collect()
    }
}

/// One function body, as the analysis sees it.
struct Summary {
    /// Its own instructions.
    own: u64,
    /// The functions it calls directly.
    callees: Vec<u32>,
    /// It loops, or calls through a table or reference (any function, maybe itself).
    unbounded: bool,
    /// Its regions: first the code outside any loop, then each loop's own code (without its
    /// nested loops), in the order the loops begin. Each is charged once per entry or iteration.
    regions: Vec<Region>,
}

/// The code between two points where fuel is charged.
#[derive(Default)]
struct Region {
    own: u64,
    /// Functions called from it: an inlined one adds its cost to the region's.
    callees: Vec<u32>,
}

impl Summary {
    fn of(body: &FunctionBody<'_>) -> Result<Self, String> {
        let mut summary = Summary {
            own: 0,
            callees: Vec::new(),
            unbounded: false,
            regions: vec![Region::default()],
        };
        // The region of each open block; the function's own block is region 0.
        let mut open = vec![0usize];
        let mut operators = body.get_operators_reader().map_err(super::invalid)?;
        while !operators.eof() {
            let operator = operators.read().map_err(super::invalid)?;
            let region = *open.last().ok_or("instructions after the function's end")?;
            summary.own += 1;
            summary.regions[region].own += 1;
            match operator {
                Operator::Call { function_index } | Operator::ReturnCall { function_index } => {
                    summary.callees.push(function_index);
                    summary.regions[region].callees.push(function_index);
                }
                Operator::CallIndirect { .. }
                | Operator::ReturnCallIndirect { .. }
                | Operator::CallRef { .. }
                | Operator::ReturnCallRef { .. } => summary.unbounded = true,
                Operator::Loop { .. } => {
                    summary.unbounded = true;
                    summary.regions.push(Region::default());
                    open.push(summary.regions.len() - 1);
                }
                Operator::Block { .. }
                | Operator::If { .. }
                | Operator::Try { .. }
                | Operator::TryTable { .. } => open.push(region),
                Operator::End => {
                    open.pop();
                }
                _ => {}
            }
        }
        Ok(summary)
    }
}
