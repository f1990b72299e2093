using PuppeteerSharp;

namespace Granularity.Plots;

/// <summary>
/// Renders saved chart HTML to PNG and SVG with plotly.js's own <c>Plotly.toImage</c>, and the SVG to a one-page vector PDF
/// with Chromium's print-to-PDF, in one headless Chromium per figure,
/// closed (and killed if need be) before returning, so no browser outlives the call on a shared machine or in CI.
/// </summary>
internal static class BrowserRenderer
{
    public static (byte[] Png, string Svg, byte[] Pdf) Render(string executable, string html, int width, int height)
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
            var svgUrl = Image("svg");
            var svg = Uri.UnescapeDataString(svgUrl[(svgUrl.IndexOf(',') + 1)..]);
            page.SetContentAsync($"<!DOCTYPE html><html><head><style>@page {{ margin: 0; }} html, body {{ margin: 0; padding: 0; }}</style></head><body>{svg}</body></html>",
                new SetContentOptions { WaitUntil = new[] { WaitUntilNavigation.Load }, Timeout = 120_000 }).GetAwaiter().GetResult();
            var pdf = page.PdfDataAsync(new PdfOptions
            {
                Width = $"{width}px", Height = $"{height}px", PrintBackground = true, PageRanges = "1",
                MarginOptions = new PuppeteerSharp.Media.MarginOptions { Top = "0", Bottom = "0", Left = "0", Right = "0" },
            }).GetAwaiter().GetResult();
            return (Convert.FromBase64String(png[(png.IndexOf(',') + 1)..]), svg, pdf);
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
