"""Developer and CI tools that drive the project from outside: Docker, the SAM CLI's container path.

Not deployed and not imported by the functions, the layer or the local stack (devstack/, which
`make run` starts); `python -m tools.samcheck` is `make sam-local-check`.
"""
