"""Translation of bot messages: span protection, translation memory, MT backends, the pipeline."""
