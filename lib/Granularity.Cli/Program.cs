return Granularity.Cli.GranularityCli.Run(args);
