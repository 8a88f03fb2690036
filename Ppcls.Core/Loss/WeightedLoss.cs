namespace Ppcls.Core.Loss;

/// <summary>A loss term and its <c>weight</c> from the config list.</summary>
public sealed record WeightedLoss(IClassificationLoss Loss, double Weight);
