using System.Numerics.Tensors;

namespace Granularity.Hierarchy;

/// <summary>A k-means clustering: the cluster of each point, the centroids (k × dimension, row-major) and the fit.</summary>
public sealed record KMeansResult(int[] Assignments, float[] Centroids, int Iterations, double Inertia);

/// <summary>
/// Seeded k-means (k-means++ start, Lloyd iterations) over row-major float vectors. Deterministic for a seed whatever the
/// thread count: the parallel step only assigns points, sums run in point order. Every cluster ends non-empty.
/// </summary>
public static class KMeans
{
    /// <summary>Clusters <paramref name="points"/> (n × <paramref name="dimension"/>) into <paramref name="k"/> non-empty clusters.</summary>
    public static KMeansResult Fit(float[] points, int dimension, int k, int seed, int maxIterations = 30)
    {
        if (dimension <= 0) throw new ArgumentException($"dimension must be ≥ 1, got {dimension}", nameof(dimension));
        if (points.Length % dimension != 0) throw new ArgumentException($"{points.Length} values is not a whole number of {dimension}-dimensional points", nameof(points));
        int n = points.Length / dimension;
        if (k < 1 || k > n) throw new ArgumentException($"k must be in 1..{n} (the number of points), got {k}", nameof(k));
        if (maxIterations < 1) throw new ArgumentException($"maxIterations must be ≥ 1, got {maxIterations}", nameof(maxIterations));
        for (int i = 0; i < points.Length; i++)
            if (!float.IsFinite(points[i])) throw new ArgumentException($"point {i / dimension} has a non-finite value in component {i % dimension}", nameof(points));

        var random = new Random(seed);
        var centroids = PlusPlusStart(points, dimension, n, k, random);
        var assignment = new int[n];
        Array.Fill(assignment, -1);
        var distance = new float[n];
        int iterations = 0;
        for (; iterations < maxIterations; iterations++)
        {
            int changed = Assign(points, dimension, n, centroids, k, assignment, distance);
            Update(points, dimension, n, centroids, k, assignment, distance);
            if (changed == 0) break;
        }
        Assign(points, dimension, n, centroids, k, assignment, distance);
        FillEmptyClusters(points, dimension, n, centroids, k, assignment, distance);
        double inertia = 0;
        for (int i = 0; i < n; i++) inertia += distance[i];
        return new KMeansResult(assignment, centroids, iterations, inertia);
    }

    private static float[] PlusPlusStart(float[] points, int dimension, int n, int k, Random random)
    {
        var centroids = new float[k * dimension];
        var nearest = new float[n];
        int first = random.Next(n);
        points.AsSpan(first * dimension, dimension).CopyTo(centroids.AsSpan(0, dimension));
        Parallel.For(0, n, i => nearest[i] = SquaredDistance(points, i, dimension, centroids, 0));
        for (int c = 1; c < k; c++)
        {
            double total = 0;
            for (int i = 0; i < n; i++) total += nearest[i];
            int chosen;
            if (total <= 0) chosen = random.Next(n); // all points coincide with a centre: any point will do
            else
            {
                double target = random.NextDouble() * total, running = 0;
                chosen = n - 1;
                for (int i = 0; i < n; i++) { running += nearest[i]; if (running >= target && nearest[i] > 0) { chosen = i; break; } }
            }
            points.AsSpan(chosen * dimension, dimension).CopyTo(centroids.AsSpan(c * dimension, dimension));
            int centre = c;
            Parallel.For(0, n, i => nearest[i] = Math.Min(nearest[i], SquaredDistance(points, i, dimension, centroids, centre)));
        }
        return centroids;
    }

    private static float SquaredDistance(float[] points, int i, int dimension, float[] centroids, int c) =>
        TensorPrimitives.Distance(points.AsSpan(i * dimension, dimension), centroids.AsSpan(c * dimension, dimension)) is var d ? d * d : 0;

    /// <summary>Nearest centroid of each point by ‖x‖² − 2x·c + ‖c‖²; returns how many assignments changed.</summary>
    private static int Assign(float[] points, int dimension, int n, float[] centroids, int k, int[] assignment, float[] distance)
    {
        var centroidNorms = new float[k];
        for (int c = 0; c < k; c++) { var row = centroids.AsSpan(c * dimension, dimension); centroidNorms[c] = TensorPrimitives.Dot(row, row); }
        int changed = 0;
        const int chunk = 256;
        Parallel.For(0, (n + chunk - 1) / chunk, () => 0, (block, _, local) =>
        {
            int end = Math.Min(n, (block + 1) * chunk);
            for (int i = block * chunk; i < end; i++)
            {
                var x = points.AsSpan(i * dimension, dimension);
                float best = float.PositiveInfinity;
                int bestC = 0;
                for (int c = 0; c < k; c++)
                {
                    var score = centroidNorms[c] - 2 * TensorPrimitives.Dot(x, centroids.AsSpan(c * dimension, dimension));
                    if (score < best) { best = score; bestC = c; }
                }
                distance[i] = Math.Max(0, best + TensorPrimitives.Dot(x, x));
                if (assignment[i] != bestC) { assignment[i] = bestC; local++; }
            }
            return local;
        }, local => Interlocked.Add(ref changed, local));
        return changed;
    }

    private static void Update(float[] points, int dimension, int n, float[] centroids, int k, int[] assignment, float[] distance)
    {
        var sums = new double[k * dimension];
        var counts = new int[k];
        for (int i = 0; i < n; i++)
        {
            int c = assignment[i];
            counts[c]++;
            var x = points.AsSpan(i * dimension, dimension);
            var s = sums.AsSpan(c * dimension, dimension);
            for (int d = 0; d < dimension; d++) s[d] += x[d];
        }
        for (int c = 0; c < k; c++)
        {
            if (counts[c] == 0) continue;
            for (int d = 0; d < dimension; d++) centroids[c * dimension + d] = (float)(sums[c * dimension + d] / counts[c]);
        }
        // An empty cluster restarts at the point worst served by its centroid, so k clusters stay in play.
        var taken = new HashSet<int>();
        for (int c = 0; c < k; c++)
        {
            if (counts[c] > 0) continue;
            int worst = -1;
            for (int i = 0; i < n; i++) if (!taken.Contains(i) && (worst < 0 || distance[i] > distance[worst])) worst = i;
            taken.Add(worst);
            points.AsSpan(worst * dimension, dimension).CopyTo(centroids.AsSpan(c * dimension, dimension));
        }
    }

    /// <summary>Gives every still-empty cluster the point farthest from its centroid in the largest cluster (duplicate points can leave clusters empty).</summary>
    private static void FillEmptyClusters(float[] points, int dimension, int n, float[] centroids, int k, int[] assignment, float[] distance)
    {
        var counts = new int[k];
        foreach (var c in assignment) counts[c]++;
        for (int c = 0; c < k; c++)
        {
            if (counts[c] > 0) continue;
            int largest = Array.IndexOf(counts, counts.Max());
            int worst = -1;
            for (int i = 0; i < n; i++) if (assignment[i] == largest && (worst < 0 || distance[i] > distance[worst])) worst = i;
            assignment[worst] = c;
            counts[largest]--;
            counts[c]++;
            distance[worst] = 0;
            points.AsSpan(worst * dimension, dimension).CopyTo(centroids.AsSpan(c * dimension, dimension));
        }
    }
}
