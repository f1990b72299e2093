using Granularity.Core;
using Granularity.Data;
using Granularity.Experiments;
using Granularity.Hierarchy;
using Granularity.Tests.Data;
using Granularity.Training;
using Xunit;

namespace Granularity.Tests.Experiments;

/// <summary>The generated stand-ins are valid real-format data that the real loaders read, deterministically per seed.</summary>
public sealed class RealDataStandInTests
{
    [Fact]
    public void Inat2021StandInIsReadByTheOfficialFormatLoaderAndDecodes()
    {
        using var folder = new TempFolder();
        var config = Inat2021StandInConfig.Tiny();
        var root = StandInData.EnsureInat2021(config, folder.Combine("inat"));
        var species = StandInData.ChooseInat2021Species(config);
        var train = INat2021.Load(root, "train_mini");          // checks every listed file exists
        var val = INat2021.Load(root, "val");
        Assert.Equal(10_000, train.CategoryCount);             // all real category records, as the official files
        Assert.Equal(species.Count * config.TrainImagesPerSpecies, train.Count);
        Assert.Equal(species.Count * config.ValImagesPerSpecies, val.Count);
        Assert.Equal(species.Select(s => s.Id).ToHashSet(), train.Categories.ToHashSet());
        Assert.Equal(config.Supercategories.ToHashSet(), species.Select(s => s.Supercategory).ToHashSet());
        // Folder names follow the real archives: NNNNN_Kingdom_…_epithet.
        Assert.All(Enumerable.Range(0, train.Count), i => Assert.Contains(Inat2021.CommittedCategories()[train.CategoryOf(i)].ImageDirName, train.DisplayPathOf(i)));
        var loader = new ImageBatchLoader(val, Enumerable.Range(0, 10_000).ToArray(),
            ImageLoaderOptions.Evaluation(16) with { OnBadImage = BadImagePolicy.Fail, Transform = new EvalTransform { OutputSize = 16, ResizeSize = 16 } });
        int decoded = 0;
        foreach (var batch in loader.Epoch(0)) { using (batch) decoded += batch.Size; }
        Assert.Equal(val.Count, decoded);
    }

    [Fact]
    public void StandInsAreDeterministicPerSeed()
    {
        using var folder = new TempFolder();
        var config = Inat2021StandInConfig.Tiny();
        var a = StandInData.EnsureInat2021(config, folder.Combine("a"));
        var b = StandInData.EnsureInat2021(config, folder.Combine("b"));
        var c = StandInData.EnsureInat2021(config with { Seed = 1 }, folder.Combine("c"));
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "val.json")), File.ReadAllBytes(Path.Combine(b, "val.json")));
        var first = INat2021.Load(a, "val");
        byte[] buffer = [];
        int length = first.ReadBytes(0, ref buffer);
        var sameImage = Path.Combine(b, first.Location(0).File[(a.Length + 1)..]);
        Assert.Equal(buffer[..length], File.ReadAllBytes(sameImage));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(a, "val.json")), File.ReadAllBytes(Path.Combine(c, "val.json")));
    }

    [Fact]
    public void ImageNetStandInHasRealWnidsInPerSynsetTarsAndClassFolders()
    {
        using var folder = new TempFolder();
        var config = ImageNetStandInConfig.Tiny();
        var root = StandInData.EnsureImageNet(config, folder.Combine("imagenet"));
        var google = ImageNetHierarchies.Classes(ImageNetLabelSet.ImageNet21k);
        var in1k = ImageNetHierarchies.Classes(ImageNetLabelSet.ImageNet1k);
        var (in21k, _) = ImageNet21k.Load(Path.Combine(root, "imagenet21k", "fall11"), Path.Combine(Granularity.Core.ProjectPaths.ManifestsRoot, "hierarchies", "imagenet21k-google-classes.txt"));
        var (train1k, missing) = ClassFolders.Load("in1k", Path.Combine(root, "imagenet1k", "train"), in1k);
        int classes21k = config.Groups * (config.ImageNet1kClassesPerGroup + config.OtherClassesPerGroup);
        Assert.Equal(classes21k, in21k.Categories.Distinct().Count());
        Assert.Equal(classes21k * (config.Images21kPerClass + config.HeldOut21kPerClass), in21k.Count);
        Assert.Equal(1000 - config.Groups * config.ImageNet1kClassesPerGroup, missing.Count);
        // Every ImageNet-1k class of the stand-in is also one of its ImageNet-21k synsets, as in the real data.
        var synsets = in21k.Categories.Distinct().Select(c => in21k.CategoryNames[c]).ToHashSet();
        Assert.All(train1k.Categories.Distinct().Select(c => train1k.CategoryNames[c]), wnid => Assert.Contains(wnid, synsets));
        Assert.All(synsets, wnid => Assert.Contains(wnid, google));
        Assert.True(in21k.Location(0).Whole == false, "ImageNet-21k images are read in place from the per-synset tar");
        var loader = new ImageBatchLoader(in21k, new int[in21k.CategoryCount],
            ImageLoaderOptions.Evaluation(32) with { OnBadImage = BadImagePolicy.Fail, Transform = new EvalTransform { OutputSize = 16, ResizeSize = 16 } });
        int decoded = 0;
        foreach (var batch in loader.Epoch(0)) { using (batch) decoded += batch.Size; }
        Assert.Equal(in21k.Count, decoded);
    }

    [Fact]
    public void Inat2021LevelsAreTheRealTaxonomyRestrictedToTheStandInSpecies()
    {
        using var folder = new TempFolder();
        RealDatasets.AddInat2021StandIn(ExperimentDatasets.All, "inat2021-standin-levels-test", Inat2021StandInConfig.Tiny(), folder.Combine("inat"));
        using var data = (Inat2021TrainingData)ExperimentDatasets.All.Open(new DatasetConfig("inat2021-standin-levels-test"), 0);
        var counts = new[] { "supercategory", "class", "order", "family", "genus", "species" }.Select(data.ClassCountOf).ToArray();
        Assert.Equal(2, counts[0]);
        Assert.Equal(StandInData.ChooseInat2021Species(Inat2021StandInConfig.Tiny()).Count, counts[^1]);
        for (int k = 2; k < counts.Length; k++) Assert.True(counts[k] >= counts[k - 1], $"level {k} has fewer classes than its parent: {string.Join(",", counts)}");
        // Every rank from class down nests inside the supercategories on the stand-in's images (the target is a coarsening).
        var target = data.TrainImages.LabelsFrom(data.Labels("supercategory").LabelOfLeaf!);
        foreach (var rank in Inat2021TrainingData.ComparisonRanks)
        {
            var labels = data.TrainImages.LabelsFrom(data.Labels(rank).LabelOfLeaf!);
            Assert.Equal(0, Alignment.ConditionalEntropy(labels, data.ClassCountOf(rank), target, 2), 9);
        }
        // Random labels within the target stay inside it; one label per image has as many classes as images.
        var random = data.PerImage("random-within:genus");
        Assert.Equal(data.ClassCountOf("genus"), random.ClassCount);
        Assert.Equal(0, Alignment.ConditionalEntropy(random.Labels, random.ClassCount, target, 2), 9);
        Assert.Equal(data.TrainImages.Count, data.Labels("one-per-image").ClassCount);
        Assert.Empty(data.Evaluation("one-per-image", 8));
        var error = Assert.Throws<ArgumentException>(() => data.Labels("clusters-within:genus:nope"));
        Assert.Contains("nope", error.Message);
    }

    [Fact]
    public void RealDatasetsThatAreNotPreparedSayHowToPrepareThem()
    {
        using var folder = new TempFolder();
        var previous = Environment.GetEnvironmentVariable("GRANULARITY_DATA");
        Environment.SetEnvironmentVariable("GRANULARITY_DATA", folder.Path);
        try
        {
            var error = Assert.Throws<DirectoryNotFoundException>(() => ExperimentDatasets.All.Open(new DatasetConfig(RealDatasets.Inat2021), 0));
            Assert.Contains("granularity data prepare --dataset inat2021", error.Message);
            Assert.Contains("GRANULARITY_DATA", error.Message);
            // A partly prepared split (fewer images than the manifest) is refused, naming both counts.
            DataFixtures.WriteINatSplit(Path.Combine(folder.Path, "inat2021"), "train_mini", categories: 2, perCategory: 1);
            var partial = Assert.Throws<InvalidDataException>(() => ExperimentDatasets.All.Open(new DatasetConfig(RealDatasets.Inat2021), 0));
            Assert.Contains("500,000", partial.Message);
        }
        finally { Environment.SetEnvironmentVariable("GRANULARITY_DATA", previous); }
    }
}
