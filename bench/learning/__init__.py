"""The learning bench: a recurring failure, the rule learned from it, its measured lift."""
