"""Generated inputs with known ground truth, for tests, benchmarks and the demo."""
