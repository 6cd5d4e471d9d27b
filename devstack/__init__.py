"""The local AWS runtime: template.yaml's resources on an embedded moto server, driven by the real handlers.

`python -m devstack` (`make run`) starts it. The developer tools that use it (demo, listen, samples, `make token`,
`make sam-env`, the loopback receivers) are in devtools/.
"""
