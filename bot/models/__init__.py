"""Model provisioning: turn packaged model weights into standard local model folders."""
