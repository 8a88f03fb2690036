namespace Ppcls.Models.Tests;

/// <summary>A small RecModel: PP-LCNet x0.25 stopped at flatten, a 16-d FC neck and a 4-class FC head.</summary>
static class RecModelYaml
{
    public const string Small = """
        Arch:
          name: RecModel
          Backbone:
            name: PPLCNet_x0_25
            class_num: 4
          BackboneStopLayer:
            name: flatten
          Neck:
            name: FC
            embedding_size: 1280
            class_num: 16
          Head:
            name: FC
            embedding_size: 16
            class_num: 4
        """;
}
