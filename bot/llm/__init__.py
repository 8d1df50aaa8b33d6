"""The optional language model: the configured chat model bounded like any dependency, calls under
a deadline and a concurrency bound, and the incident's evidence as numbered, delimited items."""
