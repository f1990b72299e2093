using Granularity.Core;
using System.Diagnostics;
using Granularity.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace Granularity.Theory;

/// <summary>Easy/hard test accuracy of one model on the coarse (superclass) task, plus its subclass accuracy if it has one.</summary>
public sealed record TheoryEvaluation(
    double EasyAccuracy,            // superclass accuracy on easy test samples
    double HardAccuracy,            // superclass accuracy on hard test samples (no common feature)
    double? SubclassEasyAccuracy,   // fine model only: subclass accuracy on easy test samples
    double? SubclassHardAccuracy,   // fine model only: subclass accuracy on hard test samples
    double TestLoss);               // cross-entropy at the trained granularity on the easy test set

/// <summary>How strongly a model's neurons align with the features its outputs should detect.</summary>
public sealed record AlignmentSummary(
    double Common,     // mean over outputs of max_r ⟨w_{j,r}, v_y⟩ with the common feature of the output's superclass
    double Fine,       // mean over subclasses (y,c) of max_r ⟨w_{j,r}, v_{y,c}⟩, j = the subclass's output (fine) or its superclass's (coarse)
    double FineMin);   // the least-learned fine feature's alignment


/// <summary>One network being trained at one label granularity, with its optimiser.</summary>
public sealed class TheoryModel : IDisposable
{
    private double lossSum;
    private int lossCount;

    internal TheoryModel(LabelGranularity granularity, TwoLayerConvNet net, double learningRate)
    {
        Granularity = granularity;
        Net = net;
        Optimizer = optim.SGD(net.parameters(), learningRate);
    }

    public LabelGranularity Granularity { get; }
    public TwoLayerConvNet Net { get; }
    internal optim.Optimizer Optimizer { get; }

    internal void AddLoss(double loss) { lossSum += loss; lossCount++; }

    /// <summary>Mean SGD batch loss since the last call (NaN when no step was taken).</summary>
    internal double TakeMeanLoss()
    {
        var mean = lossCount == 0 ? double.NaN : lossSum / lossCount;
        lossSum = 0;
        lossCount = 0;
        return mean;
    }

    public void Dispose()
    {
        Optimizer.Dispose();
        Net.Dispose();
    }
}

/// <summary>
/// Trains a coarse model (2 outputs) and a fine model (2k outputs) side by side on the same stream of samples with
/// SGD on softmax cross-entropy, and measures them on the coarse task. A fine model's superclass prediction is the
/// superclass of its highest subclass logit (equivalently, the max over each superclass's subclass logits).
/// </summary>
public sealed class TheoryTrainer : IDisposable
{
    private readonly Generator trainingGenerator;
    private readonly Tensor? sharedWeights;   // CPU, both models: [coarse filters + fine filters, d], the two nets' weights
    private readonly MultiViewBatch? trainingSet;
    private Tensor? epochOrder;
    private int epochPosition;

    public TheoryTrainer(TheoryConfig config, Device? device = null)
    {
        Config = config.Validate();
        Device = device ?? TorchRuntime.Device;
        Data = new HierarchicalMultiViewData(config);
        Features = Device.type == DeviceType.CPU ? Data.Features : Data.Features.to(Device).DetachFromDisposeScope();
        trainingGenerator = HierarchicalMultiViewData.NewGenerator(config.Seed, HierarchicalMultiViewData.SeedStream.Training);
        if (config.TrainingSetSize > 0)
            trainingSet = OnDevice(Data.Sample(config.TrainingSetSize, config.HardShareInTraining, trainingGenerator), longLived: true);
        EasyTest = OnDevice(Data.TestSet(hard: false), longLived: true);
        HardTest = OnDevice(Data.TestSet(hard: true), longLived: true);
        using var coarseInit = HierarchicalMultiViewData.NewGenerator(config.Seed, HierarchicalMultiViewData.SeedStream.CoarseInit);
        using var fineInit = HierarchicalMultiViewData.NewGenerator(config.Seed, HierarchicalMultiViewData.SeedStream.FineInit);
        if (Device.type == DeviceType.CPU && config.Models == TheoryModels.Both && TensorMemory.Available)
        {
            // Both models' weights in one buffer, so a step trains them with one pair of products (TwoLayerConvNet.SgdStepPair).
            int coarseFilters = config.OutputsFor(LabelGranularity.Coarse) * config.NeuronsFor(LabelGranularity.Coarse);
            int fineFilters = config.OutputsFor(LabelGranularity.Fine) * config.NeuronsFor(LabelGranularity.Fine);
            sharedWeights = empty(coarseFilters + fineFilters, config.Dimension).DetachFromDisposeScope();
            Coarse = new TheoryModel(LabelGranularity.Coarse, TwoLayerConvNet.For(config, LabelGranularity.Coarse, coarseInit, sharedWeights.narrow(0, 0, coarseFilters)), config.LearningRate);
            Fine = new TheoryModel(LabelGranularity.Fine, TwoLayerConvNet.For(config, LabelGranularity.Fine, fineInit, sharedWeights.narrow(0, coarseFilters, fineFilters)), config.LearningRate);
        }
        else
        {
            Coarse = new TheoryModel(LabelGranularity.Coarse, TwoLayerConvNet.For(config, LabelGranularity.Coarse, coarseInit, Device), config.LearningRate);
            Fine = new TheoryModel(LabelGranularity.Fine, TwoLayerConvNet.For(config, LabelGranularity.Fine, fineInit, Device), config.LearningRate);
        }
    }

    public TheoryConfig Config { get; }
    public Device Device { get; }
    public HierarchicalMultiViewData Data { get; }
    public Tensor Features { get; }
    public MultiViewBatch EasyTest { get; }
    public MultiViewBatch HardTest { get; }
    public TheoryModel Coarse { get; }
    public TheoryModel Fine { get; }
    public int StepsDone { get; private set; }

    public TheoryModel Model(LabelGranularity granularity) => granularity == LabelGranularity.Coarse ? Coarse : Fine;

    /// <summary>
    /// One SGD step of each model on the same batch (fresh samples, or the next slice of the fixed training set), with
    /// the closed-form gradient of <see cref="TwoLayerConvNet.SgdStep"/> (equal to autograd's; a test checks).
    /// </summary>
    public void Step()
    {
        using var scope = NewDisposeScope();
        var batch = NextBatch();
        var flatInputs = batch.Inputs.view(batch.Count * Config.Patches, Config.Dimension);
        if (sharedWeights is not null)
        {
            var (coarseLoss, fineLoss) = TwoLayerConvNet.SgdStepPair(Coarse.Net, Fine.Net, sharedWeights, flatInputs, batch.CoarseLabels, batch.FineLabels, batch.Count, Config.LearningRate);
            Coarse.AddLoss(coarseLoss);
            Fine.AddLoss(fineLoss);
        }
        else
        {
            Coarse.AddLoss(Coarse.Net.SgdStep(flatInputs, batch.CoarseLabels, batch.Count, Config.LearningRate));
            if (Config.Models == TheoryModels.Both)
                Fine.AddLoss(Fine.Net.SgdStep(flatInputs, batch.FineLabels, batch.Count, Config.LearningRate));
        }
        StepsDone++;
    }

    /// <summary>Superclass accuracy on the easy and hard test sets (and subclass accuracy for the fine model).</summary>
    public TheoryEvaluation Evaluate(LabelGranularity granularity)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var model = Model(granularity);
        model.Net.eval();
        var k = Config.SubclassesPerSuperclass;
        var easyLogits = model.Net.call(EasyTest.Inputs);
        var hardLogits = model.Net.call(HardTest.Inputs);
        Tensor Superclass(Tensor logits) => granularity == LabelGranularity.Coarse
            ? logits.argmax(1)
            : logits.argmax(1).div(k, rounding_mode: RoundingMode.floor);
        double Accuracy(Tensor predicted, Tensor labels) => predicted.eq(labels).to(ScalarType.Float32).mean().item<float>();
        var testLoss = nn.functional.cross_entropy(easyLogits, EasyTest.LabelsAt(granularity)).item<float>();
        var result = new TheoryEvaluation(
            Accuracy(Superclass(easyLogits), EasyTest.CoarseLabels),
            Accuracy(Superclass(hardLogits), HardTest.CoarseLabels),
            granularity == LabelGranularity.Fine ? Accuracy(easyLogits.argmax(1), EasyTest.FineLabels) : null,
            granularity == LabelGranularity.Fine ? Accuracy(hardLogits.argmax(1), HardTest.FineLabels) : null,
            testLoss);
        model.Net.train();
        return result;
    }

    /// <summary>max_r ⟨w_{j,r}, v_f⟩ for every output j (rows) and feature f (columns: v0, v1, then the fine features).</summary>
    public double[,] AlignmentMatrix(LabelGranularity granularity)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var net = Model(granularity).Net;
        var values = net.Alignment(Features).cpu().to(ScalarType.Float64).data<double>().ToArray();
        var matrix = new double[net.Outputs, Config.FeatureCount];
        for (int j = 0; j < net.Outputs; j++)
            for (int f = 0; f < Config.FeatureCount; f++) matrix[j, f] = values[j * Config.FeatureCount + f];
        return matrix;
    }

    /// <summary>Alignment of each output with the features of its own class: its superclass's common feature, and the fine features below it.</summary>
    public AlignmentSummary Alignment(LabelGranularity granularity)
    {
        var matrix = AlignmentMatrix(granularity);
        int k = Config.SubclassesPerSuperclass;
        var subclasses = Enumerable.Range(0, Config.Subclasses).ToArray();
        double[] common, fine;
        if (granularity == LabelGranularity.Coarse)
        {
            common = Enumerable.Range(0, 2).Select(y => matrix[y, HierarchicalMultiViewData.CommonFeatureRow(y)]).ToArray();
            fine = subclasses.Select(s => matrix[s / k, HierarchicalMultiViewData.FineFeatureRow(s)]).ToArray();
        }
        else
        {
            common = subclasses.Select(s => matrix[s, HierarchicalMultiViewData.CommonFeatureRow(s / k)]).ToArray();
            fine = subclasses.Select(s => matrix[s, HierarchicalMultiViewData.FineFeatureRow(s)]).ToArray();
        }
        return new AlignmentSummary(common.Average(), fine.Average(), fine.Min());
    }

    /// <summary>The columns of metrics.csv, one row per evaluation.</summary>
    public static IReadOnlyList<string> MetricColumns { get; } = new[] { "step" }
        .Concat(new[] { "coarse", "fine" }.SelectMany(level => new[]
        {
            $"{level}_train_loss", $"{level}_test_loss", $"{level}_easy_accuracy", $"{level}_hard_accuracy",
            $"{level}_common_alignment", $"{level}_fine_alignment", $"{level}_fine_alignment_min",
        }))
        .Concat(new[] { "fine_subclass_easy_accuracy", "fine_subclass_hard_accuracy" })
        .ToArray();

    /// <summary>
    /// Trains both models for Config.Steps steps, evaluating at step 0, every EvalEvery steps and at the end, then
    /// trains the fine model's transfers and scores every model on the final test sets. train_loss is the mean batch loss since the previous row (row 0: the untrained model's test loss).
    /// </summary>
    public TheoryRunOutcome Run(Action<string>? progress = null)
    {
        var clock = Stopwatch.StartNew();
        var metrics = new MetricsTable(MetricColumns);
        void Record()
        {
            var row = new List<double> { StepsDone };
            TheoryEvaluation? fineEvaluation = null;
            foreach (var model in new[] { Coarse, Fine })
            {
                if (model == Fine && Config.Models == TheoryModels.CoarseOnly)
                {
                    row.AddRange(Enumerable.Repeat(double.NaN, 7));
                    continue;
                }
                var evaluation = Evaluate(model.Granularity);
                if (model.Granularity == LabelGranularity.Fine) fineEvaluation = evaluation;
                var alignment = Alignment(model.Granularity);
                var trainLoss = model.TakeMeanLoss();
                row.AddRange(new[]
                {
                    double.IsNaN(trainLoss) ? evaluation.TestLoss : trainLoss, evaluation.TestLoss,
                    evaluation.EasyAccuracy, evaluation.HardAccuracy, alignment.Common, alignment.Fine, alignment.FineMin,
                });
            }
            row.Add(fineEvaluation?.SubclassEasyAccuracy ?? double.NaN);
            row.Add(fineEvaluation?.SubclassHardAccuracy ?? double.NaN);
            metrics.Add(row.ToArray());
        }

        Record();
        var trainingClock = Stopwatch.StartNew();
        var trainingSeconds = 0.0;
        while (StepsDone < Config.Steps)
        {
            Step();
            if (StepsDone % Config.EvalEvery == 0 || StepsDone == Config.Steps)
            {
                trainingSeconds += trainingClock.Elapsed.TotalSeconds;
                Record();
                progress?.Invoke($"step {StepsDone}/{Config.Steps}");
                trainingClock.Restart();
            }
        }

        TheoryModelSummary? Summarise(TheoryModel model)
        {
            if (model == Fine && Config.Models == TheoryModels.CoarseOnly) return null;
            var evaluation = Evaluate(model.Granularity);
            var alignment = Alignment(model.Granularity);
            var lastRow = metrics.Rows[^1];
            return new TheoryModelSummary(
                model.Granularity, model.Net.Outputs, lastRow[metrics.IndexOf($"{model.Granularity.ToString().ToLowerInvariant()}_train_loss")],
                evaluation.EasyAccuracy, evaluation.HardAccuracy, evaluation.SubclassEasyAccuracy, evaluation.SubclassHardAccuracy,
                alignment.Common, alignment.Fine, alignment.FineMin);
        }

        var (coarseErrors, transfer) = TheoryTransferTraining.Evaluate(this);
        var summary = new TheorySummary(
            Config.Label, Summarise(Coarse)!, Summarise(Fine), coarseErrors, transfer, Config.Steps,
            Math.Round(clock.Elapsed.TotalSeconds, 3), Math.Round(Config.Steps / Math.Max(trainingSeconds, 1e-9), 1),
            Device.type.ToString().ToLowerInvariant(), BuildInfo.LibraryVersion);
        return new TheoryRunOutcome(metrics, summary, AlignmentMatrix(LabelGranularity.Coarse), AlignmentMatrix(LabelGranularity.Fine));
    }

    public void Dispose()
    {
        Coarse.Dispose();
        Fine.Dispose();
        sharedWeights?.Dispose();
        EasyTest.Dispose();
        HardTest.Dispose();
        trainingSet?.Dispose();
        epochOrder?.Dispose();
        trainingGenerator.Dispose();
        if (!ReferenceEquals(Features, Data.Features)) Features.Dispose();
        Data.Dispose();
    }

    private MultiViewBatch NextBatch()
    {
        if (trainingSet is null) return OnDevice(Data.Sample(Config.BatchSize, Config.HardShareInTraining, trainingGenerator), longLived: false);
        var size = Math.Min(Config.BatchSize, trainingSet.Count);
        if (epochOrder is null || epochPosition + size > trainingSet.Count)
        {
            epochOrder?.Dispose();
            epochOrder = randperm(trainingSet.Count, generator: trainingGenerator).to(Device).DetachFromDisposeScope();
            epochPosition = 0;
        }
        var batch = trainingSet.Select(epochOrder.narrow(0, epochPosition, size));
        epochPosition += size;
        return batch;
    }

    /// <summary>
    /// Moves a batch to the training device. Long-lived batches (test sets, the fixed training set) are detached from
    /// any dispose scope the trainer was built in; per-step batches stay in the step's scope, which disposes them.
    /// </summary>
    private MultiViewBatch OnDevice(MultiViewBatch batch, bool longLived)
    {
        if (Device.type != DeviceType.CPU)
        {
            using var original = batch;
            batch = new MultiViewBatch(batch.Inputs.to(Device), batch.FineLabels.to(Device), batch.CoarseLabels.to(Device),
                batch.IsHard.to(Device), batch.PatchRoles.to(Device));
        }
        return longLived ? batch.DetachFromDisposeScope() : batch;
    }
}

/// <summary>What a finished theory run produced before it is written to its run folder.</summary>
public sealed record TheoryRunOutcome(MetricsTable Metrics, TheorySummary Summary, double[,] CoarseAlignment, double[,] FineAlignment);
