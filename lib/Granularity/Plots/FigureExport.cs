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
    /// (otherwise says once, on standard error, that PNG/SVG/PDF export is skipped). Without a size, a figure of the
    /// catalog gets the catalog's (<see cref="SizeFor"/>), so a notebook's copy and notebook 07's are the same picture.
    /// </summary>
    public static FigureFiles Save(GenericChart chart, string directory, string figureId, int? width = null, int? height = null)
    {
        var size = SizeFor(figureId);
        return SaveAt(chart, directory, figureId, width ?? size.Width, height ?? size.Height);
    }

    /// <summary>
    /// The catalog's size for <paramref name="figureId"/> (<see cref="FigureCatalog"/>), else <see cref="HouseStyle.DefaultExportSize"/>;
    /// the same figure shown in a notebook gets <see cref="HouseStyle.InlineSize"/> of it.
    /// </summary>
    public static (int Width, int Height) SizeFor(string figureId) =>
        FigureCatalog.All.FirstOrDefault(f => string.Equals(f.Id, figureId, StringComparison.Ordinal)) is { } figure ? (figure.Width, figure.Height) : HouseStyle.DefaultExportSize;

    private static FigureFiles SaveAt(GenericChart chart, string directory, string figureId, int width, int height)
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
            var page = File.ReadAllText(html);
            var cache = CacheFolderFor(directory);
            var key = cache is null ? null : RenderKey(page, width, height, browser);
            if (key is null || !TryCopyFromCache(cache!, key, stem))
            {
                var (png, svg, pdf) = BrowserRenderer.Render(browser, page, width, height);
                AtomicFile.WriteAllBytes(stem + ".png", png);
                AtomicFile.WriteAllText(stem + ".svg", svg);
                AtomicFile.WriteAllBytes(stem + ".pdf", pdf);
                if (key is not null) StoreInCache(cache!, key, stem);
            }
        }
        return new FigureFiles(html, stem + ".png", stem + ".svg", stem + ".pdf");
    }

    /// <summary>For tests: a render cache folder used for every export (null: the default rule of <see cref="CacheFolderFor"/>).</summary>
    internal static string? CacheFolderOverride { get; set; }

    /// <summary>
    /// Where rendered PNG/SVG/PDF files are kept by content, so that a figure drawn again from the same data (notebook 07
    /// re-exports every figure of 01–06) is copied instead of rendered again: <c>.render-cache</c> under the figures root
    /// for exports into its subfolders; none elsewhere. The key is the chart's HTML (with Plotly.NET's random element
    /// ids taken out), the size, the browser and its file, so a changed chart, size or browser renders afresh.
    /// </summary>
    internal static string? CacheFolderFor(string directory)
    {
        if (CacheFolderOverride is not null) return CacheFolderOverride;
        var root = Path.GetFullPath(ProjectPaths.FiguresRoot);
        var parent = Path.GetDirectoryName(Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar));
        return string.Equals(parent, root.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal) ? Path.Combine(root, ".render-cache") : null;
    }

    private static readonly System.Text.RegularExpressions.Regex ElementId =
        new("[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", System.Text.RegularExpressions.RegexOptions.Compiled);

    private const string RenderProcedure = "plotly-toImage-png-svg+svg-print-pdf-v1";

    internal static string RenderKey(string page, int width, int height, string browser)
    {
        var file = new FileInfo(browser);
        var header = FormattableString.Invariant($"{RenderProcedure}\n{width}x{height}\n{file.FullName}\n{file.Length}\n{file.LastWriteTimeUtc:O}\n");
        var bytes = System.Text.Encoding.UTF8.GetBytes(header + ElementId.Replace(page, "id"));
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes)).ToLowerInvariant();
    }

    private static readonly string[] RenderedExtensions = [".png", ".svg", ".pdf"];

    private static bool TryCopyFromCache(string cache, string key, string stem)
    {
        var entry = Path.Combine(cache, key);
        if (!RenderedExtensions.All(extension => File.Exists(entry + extension))) return false;
        foreach (var extension in RenderedExtensions) AtomicFile.WriteAllBytes(stem + extension, File.ReadAllBytes(entry + extension));
        return true;
    }

    private static void StoreInCache(string cache, string key, string stem)
    {
        Directory.CreateDirectory(cache);
        var entry = Path.Combine(cache, key);
        // The PNG last: an entry counts only when all three exist, so a killed export leaves no half entry behind.
        foreach (var extension in new[] { ".svg", ".pdf", ".png" }) AtomicFile.WriteAllBytes(entry + extension, File.ReadAllBytes(stem + extension));
    }
}
