"""Selection strategies: one module per family, each registering itself."""
