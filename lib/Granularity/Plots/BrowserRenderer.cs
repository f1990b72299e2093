using PuppeteerSharp;

namespace Granularity.Plots;

/// <summary>
/// Renders saved chart HTML to PNG and SVG with plotly.js's own <c>Plotly.toImage</c>, and the SVG to a one-page vector PDF
/// with Chromium's print-to-PDF. One headless Chromium serves consecutive figures (starting one costs more than a
/// render); it is closed, and killed if need be, a few seconds after the last figure and when the process exits, so no
/// browser outlives its use on a shared machine or in CI. A render that fails closes the browser; the next one starts afresh.
/// </summary>
internal static class BrowserRenderer
{
    /// <summary>How long an unused browser stays open for the next figure.</summary>
    public static TimeSpan IdleClose { get; set; } = TimeSpan.FromSeconds(20);

    private static readonly object Gate = new();
    private static IBrowser? browser;
    private static string? browserExecutable;
    private static Timer? idleTimer;

    static BrowserRenderer() => AppDomain.CurrentDomain.ProcessExit += (_, _) => { lock (Gate) Close(); };

    /// <summary>How many browsers this process has started (for tests).</summary>
    internal static int Launches { get; private set; }

    /// <summary>How many figures this process has rendered (for tests).</summary>
    internal static int Renders { get; private set; }

    /// <summary>True while a browser is open (for tests).</summary>
    internal static bool IsOpen { get { lock (Gate) return browser is not null; } }

    public static (byte[] Png, string Svg, byte[] Pdf) Render(string executable, string html, int width, int height)
    {
        lock (Gate)
        {
            idleTimer?.Dispose();
            idleTimer = null;
            try
            {
                var rendered = RenderOn(Open(executable), html, width, height);
                Renders++;
                return rendered;
            }
            catch
            {
                Close();
                throw;
            }
            finally
            {
                if (browser is not null) idleTimer = new Timer(_ => { lock (Gate) Close(); }, null, IdleClose, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private static IBrowser Open(string executable)
    {
        if (browser is { IsClosed: false } && browserExecutable == executable) return browser;
        Close();
        browser = Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = executable,
            Headless = true,
            // Root (CI, containers) cannot use Chromium's sandbox; nothing but our own chart HTML is loaded.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-crash-reporter", "--disable-breakpad"],
        }).GetAwaiter().GetResult();
        browserExecutable = executable;
        Launches++;
        return browser;
    }

    private static (byte[] Png, string Svg, byte[] Pdf) RenderOn(IBrowser open, string html, int width, int height)
    {
        var page = open.NewPageAsync().GetAwaiter().GetResult();
        try
        {
            page.SetContentAsync(html, new SetContentOptions { WaitUntil = [WaitUntilNavigation.Load], Timeout = 120_000 }).GetAwaiter().GetResult();
            page.WaitForFunctionAsync("() => document.querySelector('.js-plotly-plot') !== null", new WaitForFunctionOptions { Timeout = 120_000 }).GetAwaiter().GetResult();
            string Image(string format) => page.EvaluateExpressionAsync<string>(
                $"Plotly.toImage(document.querySelector('.js-plotly-plot'), {{format: '{format}', width: {width}, height: {height}}})").GetAwaiter().GetResult();
            var png = Image("png");
            var svgUrl = Image("svg");
            var svg = Uri.UnescapeDataString(svgUrl[(svgUrl.IndexOf(',') + 1)..]);
            page.SetContentAsync($"<!DOCTYPE html><html><head><style>@page {{ margin: 0; }} html, body {{ margin: 0; padding: 0; }}</style></head><body>{svg}</body></html>",
                new SetContentOptions { WaitUntil = [WaitUntilNavigation.Load], Timeout = 120_000 }).GetAwaiter().GetResult();
            var pdf = page.PdfDataAsync(new PdfOptions
            {
                Width = $"{width}px", Height = $"{height}px", PrintBackground = true, PageRanges = "1",
                MarginOptions = new PuppeteerSharp.Media.MarginOptions { Top = "0", Bottom = "0", Left = "0", Right = "0" },
            }).GetAwaiter().GetResult();
            return (Convert.FromBase64String(png[(png.IndexOf(',') + 1)..]), svg, pdf);
        }
        finally
        {
            try { page.CloseAsync().Wait(TimeSpan.FromSeconds(10)); }
            catch (Exception) { /* the browser is closed on failure by the caller */ }
        }
    }

    /// <summary>Closes the browser (killing it if it does not close); call with the gate held.</summary>
    private static void Close()
    {
        idleTimer?.Dispose();
        idleTimer = null;
        if (browser is null) return;
        try { browser.CloseAsync().Wait(TimeSpan.FromSeconds(10)); }
        catch (Exception) { /* fall through to the kill below */ }
        try { if (browser.Process is { HasExited: false } process) process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { /* already exited */ }
        browser.Dispose();
        browser = null;
    }
}
