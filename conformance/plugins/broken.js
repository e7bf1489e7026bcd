self.onmessage = (event) => {
  const reply = {
    status: 200,,
  };
};
