using Granularity.Experiments;
using Plotly.NET;
using Plotly.NET.CSharp;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace Granularity.Plots;

/// <summary>Charts of the real-image fine-to-coarse experiment (notebook 08), built from its saved results.</summary>
public static class RealImagesCharts
{
    private static string DataName(RealImagesResult result) => result.Config.Dataset switch
    {
        RealImageDataset.OmniglotSmall => $"Omniglot small subsets, {result.Config.Name}",
        RealImageDataset.Omniglot => "Omniglot",
        _ => "CIFAR-100",
    };

    private static string TargetName(RealImagesResult result) => result.Config.Dataset == RealImageDataset.Cifar100 ? "superclass" : "alphabet";

    private static string LabelType(string labelSet) => labelSet switch
    {
        "leaf" or "instance" => "hierarchy (leaf, one label per image)",
        "rand_nested" => "random, nested in the target",
        "rand_across" => "random, across the set",
        "drawing" => "drawing number (not aligned)",
        _ when labelSet.StartsWith("kmeans_within_", StringComparison.Ordinal) => "k-means within target classes",
        _ when labelSet.StartsWith("kmeans_across_", StringComparison.Ordinal) => "k-means across target classes",
        _ => labelSet,
    };

    /// <summary>
    /// Target error against the number of pretraining classes (log x), one trace per label type (median over seeds, with
    /// every seed as a faint point), and the baseline's median with its 95% bootstrap interval as a band.
    /// </summary>
    public static GenericChart ErrorVsClasses(RealImagesResult result, string? readout = null)
    {
        readout ??= RealImages.ReadoutName(RealImagesConfig.ClaimReadout);
        var arms = RealImagesClaims.Arms(result).Where(a => a.Readout == readout).ToList();
        var baseline = RealImagesClaims.Arms(result).Single(a => a.LabelSet == Experiments.RealImageLabelSets.Target);
        var traces = new List<GenericChart>();
        foreach (var group in arms.GroupBy(a => LabelType(a.LabelSet)))
        {
            var points = group.OrderBy(a => a.PretrainingClasses).ToList();
            traces.Add(CSharpChart.Line<int, double, string>(points.Select(p => p.PretrainingClasses), points.Select(p => 100 * p.Error.Value),
                Name: group.Key, ShowMarkers: true,
                MultiText: points.Select(p => $"{p.LabelSet}: {100 * p.Error.Value:0.0}% [{100 * p.Error.Low:0.0}, {100 * p.Error.High:0.0}]").ToArray()));
        }
        var seeds = result.Rows.Where(r => r.Readout == readout).ToList();
        traces.Add(CSharpChart.Point<int, double, string>(seeds.Select(r => r.PretrainingClasses), seeds.Select(r => 100 * r.TestError),
            Name: "each seed", Opacity: 0.35, MultiText: seeds.Select(r => $"{r.LabelSet}, seed {r.Seed}").ToArray()));
        int low = Math.Min(result.Summary.TargetClasses, arms.Count == 0 ? result.Summary.TargetClasses : arms.Min(a => a.PretrainingClasses));
        int high = Math.Max(low + 1, arms.Count == 0 ? result.Summary.LeafClasses : arms.Max(a => a.PretrainingClasses));
        const string baselineColour = "#000000";
        traces.AddRange(HouseStyle.IntervalBand(new[] { low, high }, [100 * baseline.Error.Low, 100 * baseline.Error.Low], [100 * baseline.Error.High, 100 * baseline.Error.High],
            "baseline 95% interval", baselineColour));
        traces.Add(CSharpChart.Line<int, double, string>(new[] { low, high }, new[] { 100 * baseline.Error.Value, 100 * baseline.Error.Value },
            Name: $"baseline ({TargetName(result)} labels, {result.Summary.TargetClasses} classes), median", LineDash: StyleParam.DrawingStyle.Dash, LineColor: Color.fromString(baselineColour)));
        var chart = HouseStyle.Apply(CSharpChart.Combine(traces),
            $"{DataName(result)} (real images): {TargetName(result)} error vs number of pretraining classes ({readout})",
            "pretraining classes (log scale)", $"{TargetName(result)} test error (%)");
        return chart.WithXAxisStyle<double, double, string>(AxisType: StyleParam.AxisType.Log);
    }

    /// <summary>Median error on easy and hard test images per arm (hard = the lowest share by a reference baseline's target probability, as in notebook 06).</summary>
    public static GenericChart EasyVersusHard(RealImagesResult result, string? readout = null)
    {
        readout ??= RealImages.ReadoutName(RealImagesConfig.ClaimReadout);
        var arms = RealImagesClaims.Arms(result).Where(a => a.Readout == readout || a.LabelSet == Experiments.RealImageLabelSets.Target)
            .OrderBy(a => a.LabelSet == Experiments.RealImageLabelSets.Target ? 0 : 1).ThenBy(a => a.PretrainingClasses).ToList();
        var names = arms.Select(a => $"{a.LabelSet} ({a.PretrainingClasses})").ToArray();
        var bars = new List<GenericChart>
        {
            CSharpChart.Column<double, string, string>(arms.Select(a => 100 * (a.EasyError?.Value ?? double.NaN)).ToArray(), Keys: names, Name: "easy test images"),
            CSharpChart.Column<double, string, string>(arms.Select(a => 100 * (a.HardError?.Value ?? double.NaN)).ToArray(), Keys: names, Name: $"hard test images (lowest {result.Config.HardShare:P0})"),
        };
        return HouseStyle.Apply(CSharpChart.Combine(bars),
            $"{DataName(result)} (real images): error on easy and hard test images ({readout}; the baseline trains on the target)",
            "pretraining labels (classes)", $"{TargetName(result)} test error (%), median over seeds");
    }

    /// <summary>Saves both charts with <see cref="FigureExport.Save"/>.</summary>
    public static IReadOnlyList<FigureFiles> SaveAll(RealImagesResult result, string directory) =>
    [
        FigureExport.Save(ErrorVsClasses(result), directory, "real-images-error-vs-classes"),
        FigureExport.Save(EasyVersusHard(result), directory, "real-images-easy-hard"),
    ];
}
