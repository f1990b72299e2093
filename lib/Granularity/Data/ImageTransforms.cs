namespace Granularity.Data;

/// <summary>A crop rectangle in source-image pixel coordinates (may be fractional after scaling).</summary>
public readonly record struct CropRect(double X, double Y, double Width, double Height)
{
    public CropRect Scaled(double sx, double sy) => new(X * sx, Y * sy, Width * sx, Height * sy);
}

/// <summary>
/// What happens to a decoded image before it enters a batch: which crop of it is resampled to the output size, whether
/// it is mirrored, and the per-channel normalisation. Implementations are pure functions of the image size and the
/// sample's generator, so augmentation is reproducible for a seed.
/// </summary>
public abstract record ImageTransform
{
    public int OutputSize { get; init; } = 224;                              // pixels, square output
    public float[] Mean { get; init; } = { 0.485f, 0.456f, 0.406f };        // ImageNet RGB mean (torchvision convention)
    public float[] Std { get; init; } = { 0.229f, 0.224f, 0.225f };         // ImageNet RGB std

    /// <summary>Chooses the crop of a <paramref name="width"/>×<paramref name="height"/> image and whether to flip it.</summary>
    public abstract (CropRect Crop, bool Flip) Plan(int width, int height, ref SampleRandom random);

    protected void ValidateCommon()
    {
        if (OutputSize is < 1 or > 4096) throw new ArgumentException($"{GetType().Name}.OutputSize must be in [1, 4096], got {OutputSize}");
        if (Mean.Length != 3) throw new ArgumentException($"{GetType().Name}.Mean must have 3 entries (RGB), got {Mean.Length}");
        if (Std.Length != 3 || Std.Any(s => s <= 0)) throw new ArgumentException($"{GetType().Name}.Std must have 3 positive entries (RGB)");
    }
}

/// <summary>
/// Training augmentation: random-resized crop (area fraction in Scale, log-uniform aspect ratio in Ratio, 10 tries then
/// a centre crop, as torchvision's RandomResizedCrop), horizontal flip with probability FlipProbability, normalisation.
/// </summary>
public sealed record TrainAugmentation : ImageTransform
{
    public double ScaleMin { get; init; } = 0.08;          // smallest crop area / image area (torchvision default)
    public double ScaleMax { get; init; } = 1.0;
    public double RatioMin { get; init; } = 3.0 / 4.0;     // crop aspect ratio w/h range
    public double RatioMax { get; init; } = 4.0 / 3.0;
    public double FlipProbability { get; init; } = 0.5;

    public TrainAugmentation Validate()
    {
        ValidateCommon();
        if (!(ScaleMin > 0 && ScaleMin <= ScaleMax && ScaleMax <= 1)) throw new ArgumentException($"TrainAugmentation.ScaleMin/ScaleMax must satisfy 0 < min ≤ max ≤ 1, got [{ScaleMin}, {ScaleMax}]");
        if (!(RatioMin > 0 && RatioMin <= RatioMax)) throw new ArgumentException($"TrainAugmentation.RatioMin/RatioMax must satisfy 0 < min ≤ max, got [{RatioMin}, {RatioMax}]");
        if (FlipProbability is < 0 or > 1) throw new ArgumentException($"TrainAugmentation.FlipProbability must be in [0, 1], got {FlipProbability}");
        return this;
    }

    public override (CropRect Crop, bool Flip) Plan(int width, int height, ref SampleRandom random)
    {
        var crop = RandomResizedCrop(width, height, ref random);
        bool flip = random.NextDouble() < FlipProbability;
        return (crop, flip);
    }

    private CropRect RandomResizedCrop(int width, int height, ref SampleRandom random)
    {
        double area = (double)width * height;
        double logRatioMin = Math.Log(RatioMin), logRatioMax = Math.Log(RatioMax);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double targetArea = area * random.Uniform(ScaleMin, ScaleMax);
            double aspect = Math.Exp(random.Uniform(logRatioMin, logRatioMax));
            int w = (int)Math.Round(Math.Sqrt(targetArea * aspect));
            int h = (int)Math.Round(Math.Sqrt(targetArea / aspect));
            if (w > 0 && h > 0 && w <= width && h <= height)
                return new CropRect(random.NextInt(width - w + 1), random.NextInt(height - h + 1), w, h);
        }
        // Fallback: the largest centre crop whose aspect ratio is inside the allowed range.
        double inRatio = (double)width / height;
        int cw = width, ch = height;
        if (inRatio < RatioMin) ch = Math.Max(1, (int)Math.Round(cw / RatioMin));
        else if (inRatio > RatioMax) cw = Math.Max(1, (int)Math.Round(ch * RatioMax));
        return new CropRect((width - cw) / 2, (height - ch) / 2, cw, ch);
    }
}

/// <summary>Evaluation transform: resize the shorter side to ResizeSize then take the centre OutputSize square (256 → 224 by default).</summary>
public sealed record EvalTransform : ImageTransform
{
    public int ResizeSize { get; init; } = 256;   // shorter side before the centre crop (torchvision's ImageNet eval)

    public EvalTransform Validate()
    {
        ValidateCommon();
        if (ResizeSize < OutputSize) throw new ArgumentException($"EvalTransform.ResizeSize must be ≥ OutputSize ({OutputSize}), got {ResizeSize}");
        return this;
    }

    public override (CropRect Crop, bool Flip) Plan(int width, int height, ref SampleRandom random)
    {
        // The centre OutputSize crop of the resized image, mapped back to source pixels.
        double side = Math.Min(width, height) * (double)OutputSize / ResizeSize;
        double cropW = Math.Min(side, width), cropH = Math.Min(side, height);
        return (new CropRect((width - cropW) / 2, (height - cropH) / 2, cropW, cropH), false);
    }
}
