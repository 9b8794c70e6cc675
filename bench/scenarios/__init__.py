"""The benchmark suite's scenarios: one module each, with NAME and run(smoke) -> list[Figure]."""
