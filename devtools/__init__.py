"""Developer tools around the local runtime (devstack/): `make token`, `make samples`, `make sam-env`, `make demo`,
`make listen`, and the loopback receivers that the demo, the tests and the benches share."""
