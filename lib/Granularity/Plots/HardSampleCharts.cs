using System.Globalization;
using Granularity.Experiments;
using Microsoft.Data.Analysis;
using Plotly.NET;
using Plotly.NET.CSharp;
using Chart = Plotly.NET.CSharp.Chart;

namespace Granularity.Plots;

/// <summary>Chart builders and tables of notebook 06 (easy and hard samples), all from a <see cref="HardSamplesResult"/>.</summary>
public static class HardSampleCharts
{
    private const string BaselineColor = "#d62728";
    private static readonly string[] FineColors = ["#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

    private static string FineColor(HardSamplesResult result, string level) => FineColors[result.Config.FineLevels.ToList().IndexOf(level) % FineColors.Length];

    /// <summary>
    /// hard-definitions: each hardness definition against the known hard samples (AUC, precision at the true hard share)
    /// where the data has them, and against the default definition (Spearman, overlap of the hard sets).
    /// </summary>
    public static GenericChart DefinitionAgreement(HardSamplesResult result)
    {
        var checks = result.Definitions();
        var names = checks.Select(c => Words(c.Definition)).ToArray();
        var measures = new List<(string Name, double[] Values, string Color)>();
        if (result.HasGroundTruth)
        {
            measures.Add(("AUC against the known hard samples", checks.Select(c => c.GroundTruthAuc).ToArray(), "#1b9e77"));
            measures.Add(("precision at the true hard share", checks.Select(c => c.PrecisionAtTrueShare).ToArray(), "#66a61e"));
        }
        measures.Add(($"Spearman ρ with {Words(result.Config.Definition)}", checks.Select(c => c.SpearmanWithDefault).ToArray(), "#7570b3"));
        measures.Add(($"overlap of the hardest {result.Config.HardShare:P0} (Jaccard)", checks.Select(c => c.HardSetOverlap).ToArray(), "#e7298a"));
        var bars = measures.Select(m => Chart.Column<double, string, string>(m.Values, Keys: names, Name: m.Name, MarkerColor: Color.fromString(m.Color),
            MultiText: m.Values.Select(v => v.ToString("0.00", CultureInfo.InvariantCulture)).ToArray())).ToList();
        if (result.HasGroundTruth)
            bars.Add(Chart.Line<string, double, string>(names, names.Select(_ => 0.5).ToArray(), Name: "chance (AUC 0.5)",
                LineColor: Color.fromString("#555555"), LineDash: StyleParam.DrawingStyle.Dash));
        var chart = Chart.Combine(bars);
        var layout = new Layout();
        layout.SetProperty("barmode", "group");
        chart = Plotly.NET.Chart.withLayout(layout).Invoke(chart);
        return HouseStyle.Apply(chart.WithSize(950, 480),
            $"Hardness definitions ({Source(result)}): agreement with {(result.HasGroundTruth ? "the known hard samples and " : "")}each other",
            "definition (score of a coarse-trained reference model; low = hard)", "agreement (0–1)");
    }

    /// <summary>hard-score-distribution: the score of the truly easy and truly hard images (or of all images without ground truth).</summary>
    public static GenericChart ScoreDistribution(HardSamplesResult result, HardnessDefinition? definition = null)
    {
        var d = definition ?? result.Config.Definition;
        var scores = result.Scores(d);
        var histograms = new List<GenericChart>();
        if (result.TrueHard is { } hard)
        {
            histograms.Add(Chart.Histogram<double, double, string>(X: scores.Where((_, i) => !hard[i]).ToArray(), Name: "truly easy images", Opacity: 0.6, MarkerColor: Color.fromString("#1f77b4")));
            histograms.Add(Chart.Histogram<double, double, string>(X: scores.Where((_, i) => hard[i]).ToArray(), Name: "truly hard images (common feature absent)", Opacity: 0.6, MarkerColor: Color.fromString("#d62728")));
        }
        else histograms.Add(Chart.Histogram<double, double, string>(X: scores, Name: "all test images", MarkerColor: Color.fromString("#1f77b4")));
        var chart = Chart.Combine(histograms);
        var layout = new Layout();
        layout.SetProperty("barmode", "overlay");
        chart = Plotly.NET.Chart.withLayout(layout).Invoke(chart);
        return HouseStyle.Apply(chart.WithSize(900, 440), $"{Words(d)} of the reference model ({Source(result)})", Words(d) + Unit(d), "test images (count)");
    }

    /// <summary>
    /// hard-gain: error of the baseline and of each fine-pretrained model per hardness bin (mean over seeds, bars: min–max),
    /// and the error reduction per bin in percentage points; bin 1 holds the hardest images.
    /// </summary>
    public static GenericChart ErrorByHardness(HardSamplesResult result, HardnessDefinition? definition = null)
    {
        var d = definition ?? result.Config.Definition;
        var bins = result.Bins(d);
        var x = bins.Select(b => BinLabel(b.Bin, bins.Count)).ToArray();
        GenericChart Series(string model, string color)
        {
            var errors = bins.Select(b => b.Errors.First(e => e.Model == model)).ToArray();
            var line = Chart.Line<string, double, string>(x, errors.Select(e => 100 * e.Mean).ToArray(), Name: model == HardSamplesResult.BaselineName ? "baseline (coarse labels only)" : $"pretrained on {model}, then target",
                ShowMarkers: true, LineColor: Color.fromString(color), MarkerColor: Color.fromString(color));
            foreach (var trace in line.GetTraces())
                trace.SetProperty("error_y", new Dictionary<string, object>
                {
                    ["type"] = "data", ["symmetric"] = false, ["visible"] = result.Config.Seeds.Count > 1,
                    ["array"] = errors.Select(e => 100 * (e.Max - e.Mean)).ToArray(), ["arrayminus"] = errors.Select(e => 100 * (e.Mean - e.Min)).ToArray(),
                });
            return line;
        }
        var errorPanel = Chart.Combine(new[] { Series(HardSamplesResult.BaselineName, BaselineColor) }
                .Concat(result.Config.FineLevels.Select(l => Series(l, FineColor(result, l)))))
            .WithXAxisStyle<double, double, string>(TitleText: $"hardness bin by {Words(d)} (equal counts)")
            .WithYAxisStyle<double, double, string>(TitleText: "target top-1 error (%)");
        var reductionPanel = Chart.Combine(result.Config.FineLevels.Select(l =>
        {
            var baseline = bins.Select(b => b.Errors.First(e => e.Model == HardSamplesResult.BaselineName).Mean).ToArray();
            var fine = bins.Select(b => b.Errors.First(e => e.Model == l).Mean).ToArray();
            return Chart.Column<double, string, string>(baseline.Zip(fine, (b, f) => 100 * (b - f)).ToArray(), Keys: x, Name: $"error reduction, {l}",
                MarkerColor: Color.fromString(FineColor(result, l)), ShowLegend: true);
        })).WithXAxisStyle<double, double, string>(TitleText: $"hardness bin by {Words(d)}")
           .WithYAxisStyle<double, double, string>(TitleText: "baseline − fine error (points)");
        var chart = Chart.Grid(new[] { errorPanel, reductionPanel }, 1, 2,
            SubPlotTitles: new[] { "error per hardness bin (mean, bars: min–max over seeds)", "where the gain comes from" });
        return HouseStyle.Apply(chart.WithSize(1200, 480),
            $"Easy vs hard test images ({Source(result)}; {result.Config.Seeds.Count} seed{(result.Config.Seeds.Count == 1 ? "" : "s")}, {result.Count:N0} images)");
    }

    /// <summary>The definitions' agreement as a table.</summary>
    public static DataFrame DefinitionTable(HardSamplesResult result)
    {
        var checks = result.Definitions();
        return new DataFrame(
            new StringDataFrameColumn("definition", checks.Select(c => Words(c.Definition))),
            new StringDataFrameColumn("AUC vs known hard", checks.Select(c => Number(c.GroundTruthAuc))),
            new StringDataFrameColumn("precision at true share", checks.Select(c => Number(c.PrecisionAtTrueShare))),
            new StringDataFrameColumn($"Spearman ρ with {Words(result.Config.Definition)}", checks.Select(c => Number(c.SpearmanWithDefault))),
            new StringDataFrameColumn($"overlap of hardest {result.Config.HardShare:P0}", checks.Select(c => Number(c.HardSetOverlap))));
    }

    /// <summary>Error per hardness bin as a table (errors in %, mean and min–max over seeds).</summary>
    public static DataFrame BinTable(HardSamplesResult result, HardnessDefinition? definition = null)
    {
        var bins = result.Bins(definition);
        var columns = new List<DataFrameColumn>
        {
            new StringDataFrameColumn("bin", bins.Select(b => BinLabel(b.Bin, bins.Count))),
            new Int32DataFrameColumn("images", bins.Select(b => b.Count)),
            new StringDataFrameColumn("score range", bins.Select(b => $"{Number(b.ScoreFrom)} – {Number(b.ScoreTo)}")),
        };
        if (result.HasGroundTruth) columns.Add(new StringDataFrameColumn("truly hard", bins.Select(b => b.TrueHardShare.ToString("P0", CultureInfo.InvariantCulture))));
        foreach (var model in result.Models)
            columns.Add(new StringDataFrameColumn($"{model} error %", bins.Select(b => Percent(b.Errors.First(e => e.Model == model)))));
        return new DataFrame(columns);
    }

    /// <summary>Baseline vs fine on hard, easy (and truly hard/easy) images, with each group's share of the whole reduction.</summary>
    public static DataFrame GainTable(HardSamplesResult result, HardnessDefinition? definition = null)
    {
        var rows = result.Gains(definition);
        return new DataFrame(
            new StringDataFrameColumn("pretrained on", rows.Select(r => r.FineLevel)),
            new StringDataFrameColumn("test images", rows.Select(r => r.Group)),
            new Int32DataFrameColumn("count", rows.Select(r => r.Count)),
            new StringDataFrameColumn("baseline error %", rows.Select(r => (100 * r.BaselineError).ToString("0.0", CultureInfo.InvariantCulture))),
            new StringDataFrameColumn("fine error %", rows.Select(r => (100 * r.FineError).ToString("0.0", CultureInfo.InvariantCulture))),
            new StringDataFrameColumn("reduction (points)", rows.Select(r => (100 * r.Reduction).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture))),
            new StringDataFrameColumn("share of total reduction", rows.Select(r => double.IsNaN(r.ShareOfTotalReduction) ? "–" : r.ShareOfTotalReduction.ToString("P0", CultureInfo.InvariantCulture))));
    }

    private static string Source(HardSamplesResult result) =>
        result.HasGroundTruth ? $"synthetic hierarchy, {result.Config.Reference.Dataset.Name}" : result.Config.Reference.Dataset.Name;

    private static string BinLabel(int bin, int bins) => bin == 1 ? "1 (hardest)" : bin == bins ? $"{bin} (easiest)" : bin.ToString(CultureInfo.InvariantCulture);

    /// <summary>A definition in words.</summary>
    public static string Words(HardnessDefinition definition) => definition switch
    {
        HardnessDefinition.TargetProbability => "target-class probability",
        HardnessDefinition.TargetMargin => "target-class logit margin",
        HardnessDefinition.CentroidSimilarity => "similarity to the class centroid",
        _ => definition.ToString(),
    };

    private static string Unit(HardnessDefinition definition) => definition switch
    {
        HardnessDefinition.TargetProbability => " (0–1)",
        HardnessDefinition.TargetMargin => " (logits)",
        HardnessDefinition.CentroidSimilarity => " (cosine, −1–1)",
        _ => "",
    };

    private static string Number(double value) => double.IsNaN(value) ? "–" : value.ToString("0.000", CultureInfo.InvariantCulture);

    private static string Percent(ModelErrors errors) => errors.PerSeed.Count <= 1
        ? (100 * errors.Mean).ToString("0.0", CultureInfo.InvariantCulture)
        : $"{(100 * errors.Mean).ToString("0.0", CultureInfo.InvariantCulture)} ({(100 * errors.Min).ToString("0.0", CultureInfo.InvariantCulture)}–{(100 * errors.Max).ToString("0.0", CultureInfo.InvariantCulture)})";
}
