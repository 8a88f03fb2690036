using System.CommandLine;
using Ppcls.Core.Config;
using Ppcls.Data.Tools;

namespace Ppcls.Tools.Commands;

/// <summary>`ppcls dataset split|make-demo`: data set preparation.</summary>
public static class DatasetCommand
{
    public static Command Build()
    {
        var command = new Command("dataset",
            "Prepare data sets: split a class-folder tree into list files, or generate the demo set.\n\n" +
            "Example:\n  ppcls dataset make-demo dataset/demo --classes 10 --per-class 40");
        command.Add(BuildSplit());
        command.Add(BuildMakeDemo());
        return command;
    }

    static Command BuildSplit()
    {
        var split = new Command("split",
            "Write train_list.txt, val_list.txt and label_list.txt into ROOT from ROOT/<class>/*.jpg|jpeg|png|bmp|webp; " +
            "class ids follow the sorted folder names.");
        var root = new Option<string>("--root") { Description = "class-folder tree", Required = true };
        var valRatio = new Option<double>("--val-ratio") { Description = "fraction of each class for val_list.txt", DefaultValueFactory = _ => 0.2 };
        var seed = new Option<long>("--seed") { Description = "shuffle seed (same seed, same split)", DefaultValueFactory = _ => 0 };
        split.Add(root);
        split.Add(valRatio);
        split.Add(seed);
        split.SetAction(parse =>
        {
            string dir = parse.GetRequiredValue(root);
            var result = ClassFolderSplitter.Split(dir, parse.GetValue(valRatio), parse.GetValue(seed));
            parse.InvocationConfiguration.Output.WriteLine(
                $"{result.Classes} classes: {result.Train} train, {result.Val} val images; wrote train_list.txt, val_list.txt, label_list.txt in {dir}");
        });
        return split;
    }

    static Command BuildMakeDemo()
    {
        var demo = new Command("make-demo",
            "Generate a small synthetic, learnable image data set in the ImageNet list layout (DIR/images, train_list.txt, val_list.txt, label_list.txt).");
        var dir = new Argument<string>("DIR") { Description = "output folder" };
        var classes = new Option<int>("--classes") { Description = "number of classes (2-100)", DefaultValueFactory = _ => 10 };
        var perClass = new Option<int>("--per-class") { Description = "images per class; 20% go to val", DefaultValueFactory = _ => 40 };
        var size = new Option<int>("--size") { Description = "square image size in pixels", DefaultValueFactory = _ => 64 };
        var seed = new Option<long>("--seed") { Description = "random seed (same seed, same files)", DefaultValueFactory = _ => 0 };
        demo.Add(dir);
        demo.Add(classes);
        demo.Add(perClass);
        demo.Add(size);
        demo.Add(seed);
        demo.SetAction(parse =>
        {
            string target = parse.GetRequiredValue(dir);
            if (string.IsNullOrWhiteSpace(target)) throw new ConfigException("DIR must not be empty");
            var result = DemoDataMaker.Make(target, parse.GetValue(classes), parse.GetValue(perClass), parse.GetValue(size), parse.GetValue(seed));
            parse.InvocationConfiguration.Output.WriteLine(
                $"{result.Classes} classes: {result.Train} train, {result.Val} val images in {result.ImagesFolder}; lists in {target}");
        });
        return demo;
    }
}
