"""Tools that feed the log: importers of real data sets and the simulator."""
