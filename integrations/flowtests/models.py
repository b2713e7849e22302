"""Models of flow testing (samples pinned per flow, with their expected output)."""
