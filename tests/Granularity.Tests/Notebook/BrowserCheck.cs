using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Granularity.Core;
using Granularity.Notebook;
using Granularity.Plots;
using PuppeteerSharp;

namespace Granularity.Tests.Notebook;

/// <summary>One thing a reader would see wrong in an exported notebook: which notebook, cell (counted from 1, markdown included) and figure.</summary>
public sealed record BrowserProblem(string Notebook, int Cell, string? CellId, string? Figure, string Kind, string Detail)
{
    public override string ToString() =>
        $"{Notebook} cell {Cell}{(CellId is null ? "" : $" (id {CellId})")}{(Figure is null ? "" : $", figure {Figure}")}: {Kind}: {Detail}";
}

/// <summary>What checking one executed notebook found, the output column's width, how long it took and how many network requests it refused.</summary>
public sealed record BrowserReport(string Notebook, IReadOnlyList<BrowserProblem> Problems, int Charts, int Tables, double ColumnWidth, string Screenshot, TimeSpan Duration, int RefusedRequests = 0);

/// <summary>
/// The real-browser check of executed notebooks: each is exported to HTML with nbconvert (Jupyter's own exporter, as a
/// reader would share it) and opened in headless system Chromium with every network request refused. In the page it
/// checks that every Plotly output drew its SVG, that no chart's title or legend lies outside the chart and no chart is
/// wider than the output column (and, beyond the issue's list, that the plot keeps at least half the chart's width and
/// that axis titles, tick labels and legends do not overlap), that no text output holds a Markdown table, and that every Markdown table has as many
/// header cells as cells in each row. It saves a full-page screenshot. It reads executed notebooks; it never runs them.
/// </summary>
public static class BrowserCheck
{
    /// <summary>Browser window width in px: a laptop-sized Jupyter page, whose output column is about 850 px.</summary>
    public const int ViewportWidth = 1024;

    /// <summary>How long a page gets to draw its charts (they wait for the inline plotly.js).</summary>
    public static TimeSpan DrawTimeout { get; } = TimeSpan.FromSeconds(15);

    /// <summary>Why the check cannot run here (no Chromium, no nbconvert) with the command that fixes it, or null.</summary>
    public static string? MissingTools()
    {
        if (FigureExport.BrowserPath is null)
            return "no Chromium (Debian's 'chromium', or GRANULARITY_CHROMIUM): run eng/install-system-packages.sh";
        if (!HasNbconvert())
            return $"{JupyterKernel.Python} has no nbconvert (Debian's python3-nbconvert): run eng/install-system-packages.sh";
        return null;
    }

    private static bool? nbconvert;

    private static bool HasNbconvert()
    {
        if (nbconvert is { } known) return known;
        try
        {
            using var process = Process.Start(new ProcessStartInfo(JupyterKernel.Python, "-c \"import nbconvert\"") { RedirectStandardError = true, RedirectStandardOutput = true })!;
            process.WaitForExit(60_000);
            return (nbconvert = process.HasExited && process.ExitCode == 0).Value;
        }
        catch (System.ComponentModel.Win32Exception) { return (nbconvert = false).Value; }
    }

    /// <summary>Exports <paramref name="executedNotebook"/> with nbconvert into <paramref name="htmlFolder"/> and returns the HTML file.</summary>
    public static string ExportHtml(string executedNotebook, string htmlFolder)
    {
        Directory.CreateDirectory(htmlFolder);
        var start = new ProcessStartInfo(JupyterKernel.Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var word in new[] { "-m", "nbconvert", "--to", "html", "--output-dir", htmlFolder, executedNotebook }) start.ArgumentList.Add(word);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        var html = Path.Combine(htmlFolder, Path.GetFileNameWithoutExtension(executedNotebook) + ".html");
        if (process.ExitCode != 0 || !File.Exists(html))
            throw new InvalidOperationException($"{executedNotebook}: nbconvert --to html failed (exit {process.ExitCode}): {stderr}{stdout.Result}");
        return html;
    }

    /// <summary>Checks every notebook in <paramref name="executedNotebooks"/> in one browser; screenshots go to <paramref name="screenshotFolder"/>.</summary>
    public static IReadOnlyList<BrowserReport> Check(IReadOnlyList<string> executedNotebooks, string screenshotFolder, string htmlFolder)
    {
        var executable = FigureExport.BrowserPath ?? throw new InvalidOperationException(MissingTools());
        Directory.CreateDirectory(screenshotFolder);
        using var browser = Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = executable,
            Headless = true,
            // Root (CI, containers) cannot use Chromium's sandbox; only our own exported notebooks are opened. The proxy
            // that does not exist is a second guard behind request interception: nothing reaches a network.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-crash-reporter", "--disable-breakpad",
                    "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>"],
        }).GetAwaiter().GetResult();
        try
        {
            return executedNotebooks.Select(n => CheckOne(browser, n, screenshotFolder, htmlFolder)).ToList();
        }
        finally
        {
            try { browser.CloseAsync().Wait(TimeSpan.FromSeconds(10)); }
            catch (Exception) { /* killed below */ }
            try { if (browser.Process is { HasExited: false } process) process.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { /* already exited */ }
        }
    }

    private static BrowserReport CheckOne(IBrowser browser, string executedNotebook, string screenshotFolder, string htmlFolder)
    {
        var clock = Stopwatch.StartNew();
        var name = Path.GetFileName(executedNotebook);
        var cellIds = (JsonNode.Parse(File.ReadAllText(executedNotebook))?["cells"] as JsonArray ?? [])
            .Select(c => (string?)c?["id"]).ToList();
        var html = ExportHtml(executedNotebook, htmlFolder);
        var page = browser.NewPageAsync().GetAwaiter().GetResult();
        try
        {
            page.SetViewportAsync(new ViewPortOptions { Width = ViewportWidth, Height = 900 }).GetAwaiter().GetResult();
            var refused = new List<string>();
            page.SetRequestInterceptionAsync(true).GetAwaiter().GetResult();
            page.Request += async (_, e) =>
            {
                var url = e.Request.Url;
                try
                {
                    if (url.StartsWith("file:", StringComparison.Ordinal) || url.StartsWith("data:", StringComparison.Ordinal) || url.StartsWith("blob:", StringComparison.Ordinal))
                        await e.Request.ContinueAsync();
                    else
                    {
                        // nbconvert's template asks a CDN for require.js and MathJax; the charts must not need either.
                        lock (refused) refused.Add(url);
                        await e.Request.AbortAsync();
                    }
                }
                catch (PuppeteerException) { /* the page closed while the request was pending */ }
            };
            page.GoToAsync(new Uri(html).AbsoluteUri, new NavigationOptions { WaitUntil = [WaitUntilNavigation.Load], Timeout = 120_000 }).GetAwaiter().GetResult();
            try
            {
                page.WaitForFunctionAsync("() => " + ChartIdsScript + ".every(id => document.getElementById(id) && document.getElementById(id).querySelector('.main-svg'))",
                    new WaitForFunctionOptions { Timeout = (int)DrawTimeout.TotalMilliseconds, PollingInterval = 200 }).GetAwaiter().GetResult();
            }
            catch (WaitTaskTimeoutException) { /* the charts that did not draw are reported below */ }
            var json = page.EvaluateExpressionAsync<string>(MeasureScript).GetAwaiter().GetResult();
            var screenshot = Path.Combine(screenshotFolder, Path.GetFileNameWithoutExtension(name) + ".png");
            page.ScreenshotAsync(screenshot, new ScreenshotOptions { FullPage = true, Type = ScreenshotType.Png }).GetAwaiter().GetResult();
            var measured = JsonNode.Parse(json)!.AsObject();
            var problems = new List<BrowserProblem>();
            foreach (var problem in measured["problems"]!.AsArray())
            {
                var cell = (int)problem!["cell"]!;
                problems.Add(new BrowserProblem(name, cell, cell >= 1 && cell <= cellIds.Count ? cellIds[cell - 1] : null,
                    (string?)problem["figure"], (string)problem["kind"]!, (string)problem["detail"]!));
            }
            int refusedCount;
            lock (refused) refusedCount = refused.Count;
            return new BrowserReport(name, problems, (int)measured["charts"]!, (int)measured["tables"]!, (double)measured["column"]!, screenshot, clock.Elapsed, refusedCount);
        }
        finally
        {
            try { page.CloseAsync().Wait(TimeSpan.FromSeconds(10)); }
            catch (Exception) { /* the browser is closed by the caller */ }
        }
    }

    /// <summary>The ids of every chart an output means to draw: the element ids its scripts pass to <c>Plotly.newPlot</c>.</summary>
    private const string ChartIdsScript = """
        (() => { const ids = []; for (const s of document.querySelectorAll('.jp-OutputArea-output script, .output_subarea script')) {
          for (const m of s.textContent.matchAll(/Plotly\.newPlot\(\s*['"]([^'"]+)['"]/g)) ids.push(m[1]); } return ids; })()
        """;

    /// <summary>Measures the page (nbconvert's lab template: one <c>.jp-Cell</c> per notebook cell) and returns the problems as JSON.</summary>
    private const string MeasureScript = """
        (() => {
          const problems = [];
          const cells = Array.from(document.querySelectorAll('.jp-Cell'));
          const cellOf = el => cells.indexOf(el.closest('.jp-Cell')) + 1;
          const px = v => Math.round(v);
          const inside = (inner, outer) => inner.left >= outer.left - 1 && inner.right <= outer.right + 1 && inner.top >= outer.top - 1 && inner.bottom <= outer.bottom + 1;
          const box = r => `${px(r.left)}..${px(r.right)} × ${px(r.top)}..${px(r.bottom)}`;
          let charts = 0, tables = 0;
          // The output column: as wide as the wrapped text of a Markdown cell (an output area itself grows with a wide chart).
          const prose = Array.from(document.querySelectorAll('.jp-MarkdownCell .jp-RenderedMarkdown')).map(m => m.getBoundingClientRect());
          const column = prose.length > 0 ? Math.min(...prose.map(r => r.width)) : document.documentElement.clientWidth;
          const columnRight = prose.length > 0 ? Math.min(...prose.map(r => r.right)) : document.documentElement.clientWidth;
          // Charts: every id passed to Plotly.newPlot must have drawn, and fit.
          for (const script of document.querySelectorAll('.jp-OutputArea-output script')) {
            for (const m of script.textContent.matchAll(/Plotly\.newPlot\(\s*['"]([^'"]+)['"]/g)) {
              const id = m[1]; charts++;
              const div = document.getElementById(id);
              const cell = cellOf(script);
              const svg = div && div.querySelector('.main-svg');
              if (!svg) { problems.push({cell, figure: id, kind: 'chart not drawn', detail: div ? 'no SVG after waiting for plotly.js' : 'no element with this id'}); continue; }
              const title = (div.querySelector('.gtitle') || {}).textContent || '';
              const figure = id + (title ? ` "${title.slice(0, 60)}"` : '');
              // The drawn figure (the element plotly sizes); the div around it is as wide as the column.
              const chart = (div.querySelector('.svg-container') || svg).getBoundingClientRect();
              if (chart.width > column + 1 || chart.right > columnRight + 1)
                problems.push({cell, figure, kind: 'chart wider than the output column', detail: `${px(chart.width)} px (right edge ${px(chart.right)}) in a ${px(column)} px column (right edge ${px(columnRight)})`});
              for (const [what, selector] of [['title', '.gtitle'], ['legend', '.legend']]) {
                for (const part of div.querySelectorAll(selector)) {
                  const r = part.getBoundingClientRect();
                  if (r.width === 0 && r.height === 0) continue;
                  if (!inside(r, chart)) problems.push({cell, figure, kind: `${what} outside the chart`, detail: `${what} ${box(r)}, chart ${box(chart)}`});
                }
              }
              // The title clear of annotations (the stand-in mark stands on top of the plot, under the title).
              const annotations = Array.from(div.querySelectorAll('.annotation')).map(a => a.getBoundingClientRect()).filter(r => r.width > 0);
              for (const t of Array.from(div.querySelectorAll('.gtitle')).map(t => t.getBoundingClientRect()).filter(r => r.width > 0)) {
                const a = annotations.find(r => Math.min(t.right, r.right) - Math.max(t.left, r.left) > 2 && Math.min(t.bottom, r.bottom) - Math.max(t.top, r.top) > 2);
                if (a) problems.push({cell, figure, kind: 'title overlaps an annotation', detail: `title ${box(t)}, annotation ${box(a)}`});
              }
              // The plot itself keeps most of the width (a long legend beside it can squeeze it to a sliver).
              const plots = Array.from(div.querySelectorAll('.nsewdrag')).map(d => d.getBoundingClientRect());
              const plotWidth = plots.length === 0 ? null : Math.max(...plots.map(r => r.right)) - Math.min(...plots.map(r => r.left));
              if (plotWidth !== null && plotWidth < 0.5 * chart.width)
                problems.push({cell, figure, kind: 'plot squeezed', detail: `plot area ${px(plotWidth)} px of a ${px(chart.width)} px chart`});
              // An axis title over its own tick labels, or the legend over either (legends below the plot).
              const overlap = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 2 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 2;
              const tickBoxes = Array.from(div.querySelectorAll('.xaxislayer-above text, .yaxislayer-above text')).map(t => t.getBoundingClientRect()).filter(r => r.width > 0);
              const titleBoxes = Array.from(div.querySelectorAll('[class*="xtitle"], [class*="ytitle"]')).map(t => t.getBoundingClientRect()).filter(r => r.width > 0);
              for (const t of titleBoxes) {
                const hit = tickBoxes.find(r => overlap(t, r));
                if (hit) { problems.push({cell, figure, kind: 'axis title overlaps tick labels', detail: `title ${box(t)}, label ${box(hit)}`}); break; }
              }
              for (const legend of div.querySelectorAll('.legend')) {
                const l = legend.getBoundingClientRect();
                const hit = tickBoxes.concat(titleBoxes).find(r => overlap(l, r));
                if (hit) problems.push({cell, figure, kind: 'legend overlaps axis labels', detail: `legend ${box(l)}, label ${box(hit)}`});
              }
              // Tick labels never over a plot area (a narrowed panel grid), and annotations (panel titles, marks) clear of each other.
              const panels = Array.from(div.querySelectorAll('.nsewdrag')).map(d => d.getBoundingClientRect());
              const overPlot = tickBoxes.find(t => panels.some(p => overlap(t, p)));
              if (overPlot) problems.push({cell, figure, kind: 'tick labels over a plot', detail: `label ${box(overPlot)}`});
              for (let i = 0; i < annotations.length; i++)
                for (let j = i + 1; j < annotations.length; j++)
                  if (overlap(annotations[i], annotations[j])) problems.push({cell, figure, kind: 'annotations overlap', detail: `${box(annotations[i])} and ${box(annotations[j])}`});
              // Tick labels of one axis that overlap each other.
              for (const group of div.querySelectorAll('g.xaxislayer-above, g.yaxislayer-above')) {
                const texts = Array.from(group.querySelectorAll('text'));
                // Rotated labels have overlapping boxes however far apart they are drawn: plotly rotates them to avoid collisions.
                if (texts.some(t => /rotate\(\s*-?[1-9]/.test(t.getAttribute('transform') || ''))) continue;
                const labels = texts.map(t => t.getBoundingClientRect()).filter(r => r.width > 0);
                const horizontal = group.querySelector('.xtick') !== null;
                // One layer can hold the labels of several panels' axes (a grid of subplots): two labels collide only
                // where their boxes overlap both ways, not merely at the same height on two panels.
                const clash = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
                collide: for (let i = 0; i < labels.length; i++)
                  for (let j = i + 1; j < labels.length; j++)
                    if (clash(labels[i], labels[j])) {
                      problems.push({cell, figure, kind: 'tick labels collide', detail: `${horizontal ? 'x' : 'y'} axis: ${box(labels[i])} and ${box(labels[j])}`}); break collide;
                    }
              }
            }
          }
          // Text outputs: a Markdown table printed as text.
          const separator = /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$/m;
          const texts = new Set(Array.from(document.querySelectorAll('.jp-OutputArea-output pre, .jp-RenderedText')).map(t => t.closest('.jp-OutputArea-output') || t));
          for (const text of texts) {
            if (separator.test(text.textContent)) problems.push({cell: cellOf(text), figure: null, kind: 'Markdown table printed as text', detail: text.textContent.trim().split('\n')[0].slice(0, 120)});
          }
          // Markdown tables (Markdown cells and text/markdown outputs): as many header cells as cells in each row.
          for (const table of document.querySelectorAll('.jp-MarkdownCell table, [data-mime-type="text/markdown"] table')) {
            tables++;
            const header = table.querySelectorAll('thead tr:first-child th, thead tr:first-child td').length;
            const rows = Array.from(table.querySelectorAll('tbody tr'));
            const bad = rows.map((r, i) => [i + 1, r.children.length]).filter(([, n]) => n !== header);
            if (bad.length > 0) problems.push({cell: cellOf(table), figure: null, kind: 'Markdown table cells differ from its header',
              detail: `${header} header cells ("${Array.from(table.querySelectorAll('thead th')).map(h => h.textContent.trim()).join('" | "').slice(0, 160)}"), but row${bad.length > 1 ? 's' : ''} ${bad.slice(0, 5).map(([i, n]) => `${i} has ${n}`).join(', ')}${bad.length > 5 ? ', …' : ''}`});
          }
          return JSON.stringify({problems, charts, tables, column});
        })()
        """;
}
