namespace Granularity.Core;

/// <summary>A point estimate with a two-sided interval, e.g. a median over seeds with its 95% bootstrap interval.</summary>
public sealed record Estimate(double Value, double Low, double High, int Count, string Method)
{
    /// <summary>True when the whole interval lies above <paramref name="threshold"/>.</summary>
    public bool IsAbove(double threshold) => Low > threshold;

    /// <summary>True when the whole interval lies below <paramref name="threshold"/>.</summary>
    public bool IsBelow(double threshold) => High < threshold;

    /// <summary>True when the interval contains <paramref name="value"/>.</summary>
    public bool Contains(double value) => Low <= value && value <= High;

    public string Format(string format = "0.000") =>
        $"{Value.ToString(format, System.Globalization.CultureInfo.InvariantCulture)} [{Low.ToString(format, System.Globalization.CultureInfo.InvariantCulture)}, {High.ToString(format, System.Globalization.CultureInfo.InvariantCulture)}]";

    public override string ToString() => Format();
}

/// <summary>The result of a paired test on the same test items under two arms.</summary>
/// <param name="OnlyAWrong">items arm A gets wrong and arm B right</param>
/// <param name="OnlyBWrong">items arm B gets wrong and arm A right</param>
/// <param name="PValue">two-sided exact p-value</param>
/// <param name="Method">the test, in words</param>
public sealed record PairedTest(int OnlyAWrong, int OnlyBWrong, double PValue, string Method);

/// <summary>
/// The project's one implementation of medians, quantiles, bootstrap intervals, paired tests and binomial intervals.
/// Everything is deterministic given its seed.
/// </summary>
public static class Statistics
{
    /// <summary>The median (the mean of the two middle values for an even count).</summary>
    public static double Median(IEnumerable<double> values) => Quantile(values, 0.5);

    public static double Mean(IEnumerable<double> values)
    {
        var list = Checked(values);
        return list.Average();
    }

    /// <summary>Sample standard deviation (n − 1); 0 for one value.</summary>
    public static double StandardDeviation(IEnumerable<double> values)
    {
        var list = Checked(values);
        if (list.Count < 2) return 0;
        var mean = list.Average();
        return Math.Sqrt(list.Sum(v => (v - mean) * (v - mean)) / (list.Count - 1));
    }

    /// <summary>The <paramref name="q"/>-quantile with linear interpolation between order statistics (type 7, as numpy and R default).</summary>
    public static double Quantile(IEnumerable<double> values, double q)
    {
        if (q is < 0 or > 1 || double.IsNaN(q)) throw new ArgumentOutOfRangeException(nameof(q), q, "a quantile must lie in [0, 1]");
        var sorted = Checked(values).OrderBy(v => v).ToArray();
        var position = q * (sorted.Length - 1);
        var lower = (int)Math.Floor(position);
        var upper = Math.Min(lower + 1, sorted.Length - 1);
        return sorted[lower] + (position - lower) * (sorted[upper] - sorted[lower]);
    }

    /// <summary>Minimum, median and maximum, as the notebooks report seeds.</summary>
    public static (double Min, double Median, double Max) MinMedianMax(IEnumerable<double> values)
    {
        var list = Checked(values);
        return (list.Min(), Median(list), list.Max());
    }

    /// <summary>
    /// Percentile bootstrap interval of a statistic (default: the mean) over <paramref name="values"/>, resampling
    /// with replacement. With one value the interval is that value.
    /// </summary>
    public static Estimate Bootstrap(IReadOnlyList<double> values, Func<IReadOnlyList<double>, double>? statistic = null,
        double confidence = 0.95, int resamples = 10_000, int seed = 0)
    {
        var list = Checked(values);
        statistic ??= v => v.Average();
        if (confidence is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "confidence must lie in (0, 1)");
        var point = statistic(list);
        if (list.Count == 1) return new Estimate(point, point, point, 1, "single value");
        var random = new Random(seed);
        var draws = new double[resamples];
        var sample = new double[list.Count];
        for (int b = 0; b < resamples; b++)
        {
            for (int i = 0; i < sample.Length; i++) sample[i] = list[random.Next(list.Count)];
            draws[b] = statistic(sample);
        }
        var alpha = (1 - confidence) / 2;
        return new Estimate(point, Quantile(draws, alpha), Quantile(draws, 1 - alpha), list.Count,
            $"{confidence:P0} percentile bootstrap over {list.Count} values, {resamples} resamples");
    }

    /// <summary>
    /// Paired bootstrap over seeds: the mean of <c>a[i] − b[i]</c> with its interval, resampling seeds (pairs) together.
    /// </summary>
    public static Estimate PairedBootstrap(IReadOnlyList<double> a, IReadOnlyList<double> b, double confidence = 0.95,
        int resamples = 10_000, int seed = 0)
    {
        if (a.Count != b.Count) throw new ArgumentException($"paired samples need equal counts, got {a.Count} and {b.Count}");
        var differences = a.Zip(b, (x, y) => x - y).ToArray();
        var estimate = Bootstrap(differences, null, confidence, resamples, seed);
        return estimate with { Method = $"paired {estimate.Method}" };
    }

    /// <summary>
    /// Exact McNemar test on per-item correctness of two arms over the same items: a two-sided binomial test of the
    /// discordant pairs against p = 1/2.
    /// </summary>
    public static PairedTest McNemar(IReadOnlyList<bool> aCorrect, IReadOnlyList<bool> bCorrect)
    {
        if (aCorrect.Count != bCorrect.Count) throw new ArgumentException($"McNemar needs the same items under both arms, got {aCorrect.Count} and {bCorrect.Count}");
        int onlyAWrong = 0, onlyBWrong = 0;
        for (int i = 0; i < aCorrect.Count; i++)
        {
            if (!aCorrect[i] && bCorrect[i]) onlyAWrong++;
            else if (aCorrect[i] && !bCorrect[i]) onlyBWrong++;
        }
        return new PairedTest(onlyAWrong, onlyBWrong, BinomialTwoSidedP(Math.Min(onlyAWrong, onlyBWrong), onlyAWrong + onlyBWrong),
            "exact McNemar (two-sided binomial on discordant pairs)");
    }

    /// <summary>Two-sided exact p-value of seeing at most <paramref name="k"/> of <paramref name="n"/> under Binomial(n, 1/2), doubled and capped at 1.</summary>
    public static double BinomialTwoSidedP(int k, int n)
    {
        if (n == 0) return 1;
        if (k < 0 || k > n) throw new ArgumentOutOfRangeException(nameof(k), k, $"k must lie in [0, {n}]");
        k = Math.Min(k, n - k);
        // log-space sum of C(n, i) / 2^n for i ≤ k
        double logHalfPowN = -n * Math.Log(2), tail = 0, logChoose = 0;
        for (int i = 0; i <= k; i++)
        {
            if (i > 0) logChoose += Math.Log(n - i + 1) - Math.Log(i);
            tail += Math.Exp(logChoose + logHalfPowN);
        }
        return Math.Min(1, 2 * tail);
    }

    /// <summary>Wilson score interval of a binomial proportion <paramref name="successes"/>/<paramref name="trials"/>.</summary>
    public static Estimate Wilson(int successes, int trials, double confidence = 0.95)
    {
        if (trials <= 0) throw new ArgumentOutOfRangeException(nameof(trials), trials, "a proportion needs at least one trial");
        if (successes < 0 || successes > trials) throw new ArgumentOutOfRangeException(nameof(successes), successes, $"successes must lie in [0, {trials}]");
        var z = NormalQuantile(1 - (1 - confidence) / 2);
        double p = (double)successes / trials, z2 = z * z;
        var centre = (p + z2 / (2 * trials)) / (1 + z2 / trials);
        var half = z * Math.Sqrt(p * (1 - p) / trials + z2 / (4.0 * trials * trials)) / (1 + z2 / trials);
        return new Estimate(p, Math.Max(0, centre - half), Math.Min(1, centre + half), trials, $"{confidence:P0} Wilson interval over {trials} items");
    }

    /// <summary>The standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9).</summary>
    public static double NormalQuantile(double p)
    {
        if (p is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(p), p, "p must lie in (0, 1)");
        double[] a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
        double[] b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
        double[] c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
        double[] d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        const double low = 0.02425;
        if (p < low)
        {
            var q = Math.Sqrt(-2 * Math.Log(p));
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        if (p > 1 - low) return -NormalQuantile(1 - p);
        var r = p - 0.5;
        var s = r * r;
        return (((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s + a[5]) * r / (((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s + b[4]) * s + 1);
    }

    private static List<double> Checked(IEnumerable<double> values)
    {
        var list = values as List<double> ?? values.ToList();
        if (list.Count == 0) throw new ArgumentException("a statistic needs at least one value");
        if (list.Any(double.IsNaN)) throw new ArgumentException("a statistic got NaN among its values");
        return list;
    }
}
