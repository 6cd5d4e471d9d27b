"""Developer tools around the local runtime (devstack/): tokens, samples, env.json for sam local, the demo and
`make listen`, and the loopback receivers that the demo, the tests and the benches share."""
