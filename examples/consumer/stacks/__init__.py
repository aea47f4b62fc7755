"""The consumer's own stacks (deliberately named like the library repo's app package)."""
