using System.Text.Json;
using System.Text.Json.Nodes;
using Granularity.Core;
using Granularity.Experiments;
using Granularity.Training;

namespace Granularity.Cli.Commands;

/// <summary>
/// The Omniglot headline file both implementations write (issue 23): per-seed alphabet test errors of the arms the
/// PyTorch twin runs, with their means and 95% percentile bootstrap intervals of the mean over seeds (10,000 resamples, seed 0).
/// </summary>
public static class RealImagesHeadline
{
    /// <summary>Headline name → (label set, readout); an arm the run lacks is left out.</summary>
    public static IReadOnlyList<(string Name, string LabelSet, string Readout)> Numbers { get; } =
    [
        ("baseline.test", RealImageLabelSets.Target, RealImages.BaselineReadout),
        ("leaf_mapped_up.test", "leaf", RealImages.MappedUpReadout),
        ("leaf_ft.test", "leaf", RealImages.ReadoutName(Readout.FineTuning)),
        ("instance_ft.test", "instance", RealImages.ReadoutName(Readout.FineTuning)),
        ("leaf_lp.test", "leaf", RealImages.ReadoutName(Readout.LinearProbe)),
        ("leaf_lp_then_ft.test", "leaf", RealImages.ReadoutName(Readout.ProbeThenFineTuning)),
    ];

    public static JsonObject Build(RealImagesResult result)
    {
        var numbers = new JsonObject();
        foreach (var (name, labelSet, readout) in Numbers)
        {
            var values = result.Errors(labelSet, readout);
            if (values.Length == 0) continue;
            var interval = Statistics.Bootstrap(values, resamples: 10_000, seed: 0);
            numbers[name] = new JsonObject
            {
                ["per_seed"] = new JsonArray(values.Select(v => (JsonNode)v).ToArray()),
                ["mean"] = values.Average(),
                ["low"] = interval.Low,
                ["high"] = interval.High,
            };
        }
        var c = result.Config;
        var network = c.Network();
        var baseline = c.ScheduleOf(RealImageLabelSets.Target);
        return new JsonObject
        {
            ["implementation"] = "csharp",
            ["protocol"] = "omniglot-standard",
            ["config"] = new JsonObject
            {
                ["config"] = c.Name,
                ["split"] = "drawers 1-14 train, 15-16 validation, 17-20 test",
                ["image_size"] = c.ImageSize,
                ["channels"] = string.Join(",", network.Channels),
                ["pool"] = network.Pool switch { Granularity.Training.Models.FeaturePool.GlobalMax => "max", Granularity.Training.Models.FeaturePool.GlobalAverage => "avg", _ => "flatten" },
                ["pool_after_last_block"] = false,
                ["shift"] = network.ShiftPixels,
                ["epochs"] = baseline.Epochs,
                ["lr"] = baseline.LearningRate,
                ["optimizer"] = "adam",
                ["schedule"] = "constant",
                ["batch_size"] = c.BatchSize,
                ["ft_epochs"] = c.TransferEpochs,
                ["ft_lr"] = baseline.LearningRate * c.TransferLearningRateFactor,
                ["lp_then_ft_epochs"] = c.ProbeThenFineTuningTransferEpochs(),
                ["lp_then_ft_lr"] = baseline.LearningRate * c.ProbeThenFineTuningLearningRateFactor,
                ["lp_epochs"] = c.ProbeEpochs,
                ["lp_lr"] = c.ProbeLearningRate,
                ["budget"] = "same total epochs for every readout: pretraining = epochs - transfer epochs",
            },
            ["seeds"] = new JsonArray(c.Seeds.Select(s => (JsonNode)s).ToArray()),
            ["numbers"] = numbers,
            ["seconds"] = Math.Round(result.Summary.Seconds, 1),
        };
    }

    public static void Write(RealImagesResult result, string path)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(path, Build(result).ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
