using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Granularity.Core;
using Granularity.Theory;

namespace Granularity.Cli.Commands;

/// <summary>
/// The theory-base headline file both implementations write (issue 23): the study's base point, the coarse model's
/// and the fine model's five transfers' superclass errors on easy and hard samples, per seed, with their means and 95%
/// percentile bootstrap intervals of the mean over seeds (10,000 resamples, seed 0).
/// </summary>
public static class TheoryHeadline
{
    /// <summary>The headline's error names in file order: coarse.easy, coarse.hard, then grouped, grouped_sgd, linear_head, head_first_layer, max_subclass.</summary>
    public static IReadOnlyList<string> Names { get; } =
        new[] { "coarse", "grouped", "grouped_sgd", "linear_head", "head_first_layer", "max_subclass" }
            .SelectMany(n => new[] { n + ".easy", n + ".hard" }).ToList();

    /// <summary>Runs (or reads) the base configuration of <paramref name="study"/> for each of <paramref name="seeds"/> and builds the headline.</summary>
    public static JsonObject Build(TheoryStudyConfig study, IReadOnlyList<int> seeds, string? runsRoot)
    {
        if (seeds.Count == 0) throw new ArgumentException("--seeds must name at least one seed", nameof(seeds));
        var clock = Stopwatch.StartNew();
        var summaries = seeds.Select(seed => TheoryExperiment.GetOrRun(study.Base with { Seed = seed }, runsRoot).Summary).ToList();
        var perName = Names.ToDictionary(n => n, _ => new List<double>());
        foreach (var summary in summaries)
        {
            var transfer = summary.Transfer ?? throw new InvalidDataException($"{summary.Label}: the run has no transfers (coarse model only)");
            var errors = new List<(string Name, TestErrors Errors)> { ("coarse", summary.CoarseErrors) };
            errors.AddRange(transfer.Named);
            foreach (var (name, e) in errors)
            {
                perName[name + ".easy"].Add(e.EasyError);
                perName[name + ".hard"].Add(e.HardError);
            }
        }
        var numbers = new JsonObject();
        foreach (var name in Names)
        {
            var values = perName[name];
            var interval = Statistics.Bootstrap(values, resamples: 10_000, seed: 0);
            numbers[name] = new JsonObject
            {
                ["per_seed"] = new JsonArray(values.Select(v => (JsonNode)v).ToArray()),
                ["mean"] = values.Average(),
                ["low"] = interval.Low,
                ["high"] = interval.High,
            };
        }
        return new JsonObject
        {
            ["implementation"] = "csharp",
            ["protocol"] = "theory-base",
            ["config"] = Config(study),
            ["seeds"] = new JsonArray(seeds.Select(s => (JsonNode)s).ToArray()),
            ["numbers"] = numbers,
            // The wall time of training the runs (each run records its own), whether they trained now or were read back.
            ["seconds"] = Math.Round(summaries.Sum(s => s.Seconds), 1),
            ["seconds_this_call"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
        };
    }

    /// <summary>Writes <paramref name="headline"/> to <paramref name="path"/> (indented JSON), creating its folder.</summary>
    public static void Write(JsonObject headline, string path)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
        File.WriteAllText(path, headline.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    private static JsonObject Config(TheoryStudyConfig study)
    {
        var c = study.Base;
        return new JsonObject
        {
            ["study"] = study.Name,
            ["regime"] = study.Regime,
            ["d"] = c.Dimension,
            ["k"] = c.SubclassesPerSuperclass,
            ["patches"] = c.Patches,
            ["common_patches"] = c.CommonPatches,
            ["fine_patches"] = c.FinePatches,
            ["feature_strength"] = c.FeatureStrength,
            ["basis"] = c.Basis == FeatureBasis.StandardBasis ? "standard" : "random_orthonormal",
            ["noise_norm"] = c.EffectiveNoiseNorm,
            ["sigma"] = c.Sigma,
            ["neurons_per_output"] = c.NeuronsPerOutput,
            ["init_std"] = c.InitStd,
            ["learning_rate"] = c.LearningRate,
            ["batch_size"] = c.BatchSize,
            ["steps"] = c.Steps,
            ["fresh_samples"] = c.TrainingSetSize == 0,
            ["hard_share_in_training"] = c.HardShareInTraining,
            ["transfer_samples"] = c.TransferSamples,
            ["transfer_steps"] = c.TransferSteps,
            ["transfer_learning_rate"] = c.TransferLearningRate,
            ["grouped_sgd_learning_rate"] = c.LearningRate,
            ["final_test_samples_per_kind"] = c.FinalTestSamplesPerKind,
            ["theorem2_transfer"] = TheoryStudy.Theorem2Transfer,
        };
    }
}
