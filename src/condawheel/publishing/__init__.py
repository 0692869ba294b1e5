"""Publishing wheels: to a package index over its upload API, or as a static simple index."""
