"""The local stack: template.yaml's resources on an embedded moto server, driven by the real handlers."""
