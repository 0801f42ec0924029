"""Live hand-off of a conversation to a person: the queue, its settings and the agent relay."""
