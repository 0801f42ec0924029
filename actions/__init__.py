"""Custom actions of the demo support bot (Cobalt Shop), served by the rasa-sdk action server."""
