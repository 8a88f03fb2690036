namespace Ppcls.Core.Loss;

/// <summary>A loss term and its <c>weight</c> from the config list.</summary>
public sealed record WeightedLoss(ILossTerm Term, double Weight)
{
    public WeightedLoss(IClassificationLoss loss, double weight) : this(new ClassificationTerm(loss), weight) { }
}
