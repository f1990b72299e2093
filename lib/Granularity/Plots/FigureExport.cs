using Granularity.Core;
using Microsoft.FSharp.Core;
using Plotly.NET;
using Granularity.Runs;

namespace Granularity.Plots;

/// <summary>The files one exported figure produced.</summary>
public sealed record FigureFiles(string Html, string? Png, string? Svg, string? Pdf = null);

/// <summary>
/// Saves charts in the house style as self-contained HTML (plotly.js embedded, opens offline) and, where a Chromium is
/// installed, as PNG, SVG and a vector PDF (for LaTeX), all drawn from the same chart.
/// </summary>
public static class FigureExport
{
    private static readonly object Gate = new();
    private static bool missingBrowserReported;

    /// <summary>Chromium or Chrome for PNG/SVG: <c>GRANULARITY_CHROMIUM</c>, else the usual install paths; null when none exists.</summary>
    public static string? BrowserPath
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable("GRANULARITY_CHROMIUM");
            if (!string.IsNullOrWhiteSpace(configured)) return File.Exists(configured) ? configured : null;
            return new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/snap/bin/chromium" }.FirstOrDefault(File.Exists);
        }
    }

    /// <summary>A copy of <paramref name="chart"/> that embeds plotly.js, so its HTML renders without a network.</summary>
    public static GenericChart SelfContained(GenericChart chart)
    {
        var full = DisplayOptions.init(null, null, null, null, null, null, FSharpOption<PlotlyJSReference>.Some(PlotlyJSReference.Full));
        return GenericChart.addDisplayOptions(full, chart);
    }

    /// <summary>
    /// Writes <c>directory/figureId.html</c> always, and <c>.png</c>, <c>.svg</c> and <c>.pdf</c> when a browser exists
    /// (otherwise says once, on standard error, that PNG/SVG/PDF export is skipped).
    /// </summary>
    public static FigureFiles Save(GenericChart chart, string directory, string figureId, int width = 900, int height = 540)
    {
        if (string.IsNullOrWhiteSpace(figureId) || figureId.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || figureId.Contains(' '))
            throw new ArgumentException($"figure id '{figureId}' must be a file name without spaces (e.g. 'theory-dynamics')", nameof(figureId));
        Directory.CreateDirectory(directory);
        var stem = Path.Combine(directory, figureId);
        var exportable = SelfContained(HouseStyle.Finish(chart));
        var html = stem + ".html";
        Plotly.NET.Chart.saveHtml(html, FSharpOption<bool>.None).Invoke(exportable);

        var browser = BrowserPath;
        if (browser is null)
        {
            lock (Gate)
            {
                if (!missingBrowserReported)
                    Console.Error.WriteLine("Figures: no Chromium found (install Debian's 'chromium' or set GRANULARITY_CHROMIUM); PNG/SVG/PDF export skipped, HTML written.");
                missingBrowserReported = true;
            }
            return new FigureFiles(html, null, null);
        }
        lock (Gate)
        {
            var (png, svg, pdf) = BrowserRenderer.Render(browser, File.ReadAllText(html), width, height);
            AtomicFile.WriteAllBytes(stem + ".png", png);
            AtomicFile.WriteAllText(stem + ".svg", svg);
            AtomicFile.WriteAllBytes(stem + ".pdf", pdf);
        }
        return new FigureFiles(html, stem + ".png", stem + ".svg", stem + ".pdf");
    }
}
