"""Demo data: a living Hotspot Nørrebro for `make run`, screenshots and trying things out."""
