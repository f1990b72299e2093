namespace Granularity.Experiments;

/// <summary>How a pretrained body is read out on the target (coarse) labels.</summary>
public enum Readout
{
    /// <summary>Trained directly on the target labels for the whole budget (the baseline row).</summary>
    Baseline,
    /// <summary>Linear probe on frozen features: shows what the pretrained features know.</summary>
    LinearProbe,
    /// <summary>The paper's protocol: a fresh head, every weight fine-tuned.</summary>
    FineTuning,
    /// <summary>LP-then-FT: the probe initialises the head, then every weight is fine-tuned at a low rate (our default).</summary>
    ProbeThenFineTuning,
}

/// <summary>Which of the paper's questions a pretraining label set answers.</summary>
public enum ConditionGroup { Baseline, Hierarchy, TooFine, Random, Clusters, Misaligned }
