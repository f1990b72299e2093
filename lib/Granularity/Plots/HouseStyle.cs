using Plotly.NET;
using Plotly.NET.CSharp;

namespace Granularity.Plots;

/// <summary>The one look of every figure: the light template and titles with units, applied by chart builders before export.</summary>
public static class HouseStyle
{
    /// <summary>Applies the house template; <paramref name="title"/> and axis titles (name them with units) when given.</summary>
    public static GenericChart Apply(GenericChart chart, string? title = null, string? xTitle = null, string? yTitle = null)
    {
        chart = Plotly.NET.Chart.withTemplate(ChartTemplates.light).Invoke(chart);
        if (title is not null) chart = Plotly.NET.Chart.withTitle(title, null).Invoke(chart);
        if (xTitle is not null) chart = chart.WithXAxisStyle<double, double, string>(TitleText: xTitle);
        if (yTitle is not null) chart = chart.WithYAxisStyle<double, double, string>(TitleText: yTitle);
        return chart;
    }
}
