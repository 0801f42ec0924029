"""The demo web page with Bridge's embeddable chat widget."""
