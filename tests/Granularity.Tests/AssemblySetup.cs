// TorchSharp's global state, the process working directory and Plotly's export options are shared: run tests one at a time.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
