using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;

namespace Ppcls.Core.Tests.Config;

/// <summary>The class count labels are checked against, where PaddleClas's recognition configs put it.</summary>
public sealed class ArchClassNumTests
{
    static int ClassNum(string yaml) =>
        ArchConfig.Read(new ConfigSection(YamlConfigReader.Read(new StringReader(yaml), "a.yaml"), "Arch")).ClassNum;

    [TestCase("name: PPLCNet_x1_0\nclass_num: 7\n", 7)]
    [TestCase("name: PPLCNet_x1_0\n", 1000)]
    [TestCase("name: RecModel\nBackbone: {name: PPLCNet_x2_5}\nHead: {name: ArcMargin, embedding_size: 512, class_num: 185341}\n", 185341)]
    [TestCase("name: RecModel\nclass_num: 12\nHead: {name: FC, class_num: 185341}\n", 12)]
    [TestCase("name: DistillationModel\nmodels:\n  - Teacher: {name: RecModel, Head: {name: ArcMargin, class_num: 30671}}\n  - Student: {name: RecModel}\n", 30671)]
    public void Arch_class_num_falls_back_to_the_head_of_a_recognition_model(string yaml, int expected) =>
        Assert.That(ClassNum(yaml), Is.EqualTo(expected));
}
