"""The checks of SPEC 2.2, one module per family, each returning hits; the engine combines them."""
