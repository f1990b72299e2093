using PuppeteerSharp;

namespace Granularity.Plots;

/// <summary>
/// Renders saved chart HTML to PNG and SVG with plotly.js's own <c>Plotly.toImage</c> in one headless Chromium per figure,
/// closed (and killed if need be) before returning, so no browser outlives the call on a shared machine or in CI.
/// </summary>
internal static class BrowserRenderer
{
    public static (byte[] Png, string Svg) Render(string executable, string html, int width, int height)
    {
        var browser = Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = executable,
            Headless = true,
            // Root (CI, containers) cannot use Chromium's sandbox; nothing but our own chart HTML is loaded.
            Args = new[] { "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-crash-reporter", "--disable-breakpad" },
        }).GetAwaiter().GetResult();
        try
        {
            var page = browser.NewPageAsync().GetAwaiter().GetResult();
            page.SetContentAsync(html, new SetContentOptions { WaitUntil = new[] { WaitUntilNavigation.Load }, Timeout = 120_000 }).GetAwaiter().GetResult();
            page.WaitForFunctionAsync("() => document.querySelector('.js-plotly-plot') !== null", new WaitForFunctionOptions { Timeout = 120_000 }).GetAwaiter().GetResult();
            string Image(string format) => page.EvaluateExpressionAsync<string>(
                $"Plotly.toImage(document.querySelector('.js-plotly-plot'), {{format: '{format}', width: {width}, height: {height}}})").GetAwaiter().GetResult();
            var png = Image("png");
            var svg = Image("svg");
            return (Convert.FromBase64String(png[(png.IndexOf(',') + 1)..]), Uri.UnescapeDataString(svg[(svg.IndexOf(',') + 1)..]));
        }
        finally
        {
            try { browser.CloseAsync().Wait(TimeSpan.FromSeconds(10)); }
            catch (Exception) { /* fall through to the kill below */ }
            try { if (browser.Process is { HasExited: false } process) process.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { /* already exited */ }
            browser.Dispose();
        }
    }
}
