"""Producer and consumer roles: the suite drives the EPJ through the scenario protocol and judges
what reaches, or what it shows from, the sandbox platform, which it knows only over HTTP."""
