using System.CommandLine;
using Ppcls.Tools.Cli;

namespace Ppcls.Tools.Commands;

/// <summary>`ppcls dataset split|make-demo`: data set preparation.</summary>
public static class DatasetCommand
{
    public static Command Build()
    {
        var command = new Command("dataset",
            "Prepare data sets: split a class-folder tree into list files, or generate the demo set.\n\n" +
            "Example:\n  ppcls dataset make-demo dataset/demo --classes 10 --per-class 40");
        var split = new Command("split", "Write train_list.txt, val_list.txt and label_list.txt from ROOT/<class>/*.jpg.");
        var splitRoot = new Option<string>("--root") { Description = "class-folder tree", Required = true };
        split.Add(splitRoot);
        split.SetAction(_ => PendingFeatureException.Raise("dataset split", "the class-folder splitter"));
        var demo = new Command("make-demo", "Generate a small synthetic, learnable image data set in the ImageNet list layout.");
        var demoDir = new Argument<string>("DIR") { Description = "output folder" };
        demo.Add(demoDir);
        demo.SetAction(_ => PendingFeatureException.Raise("dataset make-demo", "the demo data generator"));
        command.Add(split);
        command.Add(demo);
        return command;
    }
}
