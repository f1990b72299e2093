using PuppeteerSharp;

namespace Granularity.Plots;

/// <summary>
/// Renders saved chart HTML to PNG and SVG with plotly.js's own <c>Plotly.toImage</c> in one headless Chromium that lives
/// as long as the process, so a notebook with many figures starts the browser once instead of twice per figure.
/// </summary>
internal static class BrowserRenderer
{
    private static IBrowser? browser;
    private static string? browserPath;

    public static (byte[] Png, string Svg) Render(string executable, string html, int width, int height)
    {
        var page = Browser(executable).NewPageAsync().GetAwaiter().GetResult();
        try
        {
            page.SetContentAsync(html, new NavigationOptions { WaitUntil = new[] { WaitUntilNavigation.Load }, Timeout = 120_000 }).GetAwaiter().GetResult();
            page.WaitForFunctionAsync("() => document.querySelector('.js-plotly-plot') !== null", new WaitForFunctionOptions { Timeout = 120_000 }).GetAwaiter().GetResult();
            string Image(string format) => page.EvaluateExpressionAsync<string>(
                $"Plotly.toImage(document.querySelector('.js-plotly-plot'), {{format: '{format}', width: {width}, height: {height}}})").GetAwaiter().GetResult();
            var png = Image("png");
            var svg = Image("svg");
            return (Convert.FromBase64String(png[(png.IndexOf(',') + 1)..]), Uri.UnescapeDataString(svg[(svg.IndexOf(',') + 1)..]));
        }
        finally
        {
            page.CloseAsync().GetAwaiter().GetResult();
        }
    }

    private static IBrowser Browser(string executable)
    {
        if (browser is { IsConnected: true } && browserPath == executable) return browser;
        browser?.Dispose();
        browser = Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = executable,
            Headless = true,
            // Root (CI, containers) cannot use Chromium's sandbox; nothing but our own chart HTML is loaded.
            Args = new[] { "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage" },
        }).GetAwaiter().GetResult();
        browserPath = executable;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => browser?.Dispose();
        return browser;
    }
}
