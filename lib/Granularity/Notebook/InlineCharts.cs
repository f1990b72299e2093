using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.FSharp.Core;
using Plotly.NET;

namespace Granularity.Notebook;

/// <summary>Markdown a notebook cell returns (a claim table, a computed reading): shown as Markdown, or as plain text elsewhere.</summary>
public sealed record Markdown(string Text)
{
    public override string ToString() => Text;
}

/// <summary>
/// Renders charts in notebook outputs without a network: the first chart of a kernel session carries plotly.js (the copy
/// Plotly.NET ships), later ones wait for it. Replaces Plotly.NET.Interactive's formatter, which loads plotly.js from a CDN.
/// </summary>
public static class InlineCharts
{
    private const string FormattingAssembly = "Microsoft.DotNet.Interactive.Formatting";
    private static readonly object Gate = new();
    private static bool libraryEmitted;
    private static string? plotlyJs;

    /// <summary>True once <see cref="Register"/> found a notebook kernel's formatter and registered ours.</summary>
    public static bool Registered { get; private set; }

    /// <summary>
    /// Registers the HTML formatter for Plotly.NET charts, the Markdown one for <see cref="Markdown"/> and field/value tables
    /// for configs (<see cref="RecordTable.DisplayedTypes"/>) with the running kernel (found by reflection, so the library
    /// does not depend on a kernel version); outside a kernel it does nothing and returns false.
    /// </summary>
    public static bool Register()
    {
        var formatting = AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => a.GetName().Name == FormattingAssembly);
        var formatter = formatting?.GetType($"{FormattingAssembly}.Formatter");
        var register = formatter?.GetMethod("Register", BindingFlags.Public | BindingFlags.Static, [typeof(Type), typeof(Action<object, TextWriter>), typeof(string)]);
        if (register is null) return false;
        lock (Gate) libraryEmitted = false;
        register.Invoke(null, [typeof(GenericChart), new Action<object, TextWriter>((chart, writer) => writer.Write(Html((GenericChart)chart))), "text/html"]);
        // Markdown (claim tables, computed readings) renders as Markdown in Jupyter and VS Code.
        register.Invoke(null, [typeof(Markdown), new Action<object, TextWriter>((text, writer) => writer.Write(((Markdown)text).Text)), "text/markdown"]);
        var prefer = formatter!.GetMethod("SetPreferredMimeTypesFor", BindingFlags.Public | BindingFlags.Static, [typeof(Type), typeof(string[])]);
        prefer?.Invoke(null, [typeof(Markdown), new[] { "text/markdown" }]);
        // Configs and the setup cell's environment as field/value tables instead of the default summary of type names.
        foreach (var type in RecordTable.DisplayedTypes())
        {
            register.Invoke(null, [type, new Action<object, TextWriter>((value, writer) => writer.Write(RecordTable.Html(value))), "text/html"]);
            prefer?.Invoke(null, [type, new[] { "text/html" }]);
        }
        Registered = true;
        return true;
    }

    /// <summary>
    /// The notebook output of <paramref name="chart"/> in its inline layout (<see cref="Plots.HouseStyle.ForInline"/>: sized
    /// for the output column, long legends below the plot, titles wrapped): plotly.js inline the first time, then only the chart.
    /// </summary>
    public static string Html(GenericChart chart)
    {
        var noReference = DisplayOptions.init(null, null, null, null, null, null, FSharpOption<PlotlyJSReference>.Some(PlotlyJSReference.NoReference));
        var markup = GenericChart.toChartHTML(GenericChart.addDisplayOptions(noReference, Plots.HouseStyle.ForInline(chart)));
        // Draw once plotly.js is there (outputs may render out of order); give up after a minute.
        markup = Regex.Replace(markup, @"^(renderPlotly_[0-9a-f]+)\(\);\s*$",
            m => $"(function wait(n) {{ if (window.Plotly) {m.Groups[1].Value}(); else if (n < 1200) setTimeout(function () {{ wait(n + 1); }}, 50); }})(0);",
            RegexOptions.Multiline);
        bool first;
        lock (Gate)
        {
            first = !libraryEmitted;
            libraryEmitted = true;
        }
        return first ? LibraryScript() + markup : markup;
    }

    /// <summary>The text that opens the inline plotly.js script (tests count it: once per notebook).</summary>
    public const string LibraryMarker = "if (!window.Plotly) { (function (define, exports, module) {";

    /// <summary>plotly.js as an inline script that sets <c>window.Plotly</c> even where RequireJS defines <c>define</c> (classic Jupyter).</summary>
    public static string LibraryScript() =>
        "<script type=\"text/javascript\">" + LibraryMarker + "\n" + PlotlyJs() + "\n})(undefined, undefined, undefined); }</script>\n";

    private static string PlotlyJs()
    {
        if (plotlyJs is not null) return plotlyJs;
        var assembly = typeof(GenericChart).Assembly;
        var name = assembly.GetManifestResourceNames().FirstOrDefault(n => n.StartsWith("Plotly.NET.plotly-", StringComparison.Ordinal) && n.EndsWith(".min.js", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"{assembly.Location}: no embedded plotly.min.js resource");
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        // A literal "</script>" inside the library would end the inline script early.
        return plotlyJs = reader.ReadToEnd().Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase);
    }
}
