"""Everything that knows about Ray: listing, the Ray Data graph, sinks, the CLI, the output schema."""
