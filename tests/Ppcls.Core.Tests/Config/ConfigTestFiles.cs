namespace Ppcls.Core.Tests.Config;

/// <summary>Writes YAML configs into a temporary folder for a test and removes them afterwards.</summary>
public sealed class ConfigTestFiles : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ppcls-config-test-").FullName;

    public string Write(string name, string yaml)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, yaml.Replace("\r\n", "\n"));
        return path;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A small but complete config in the PaddleClas schema, with PaddleClas-only keys in it.</summary>
    public const string Minimal = """
        Global:
          checkpoints: null
          pretrained_model: null
          output_dir: ./output/
          device: cpu
          epochs: 3
          print_batch_step: 10
          use_visualdl: False
          image_shape: [3, 64, 64]
          to_static: False
        AMP:
          use_amp: False
          scale_loss: 128.0
          use_dynamic_loss_scaling: True
          use_promote: False
          level: O1
        Arch:
          name: PPLCNet_x0_25
          class_num: &class_num 10
        Loss:
          Train:
            - CELoss:
                weight: 1.0
                epsilon: 0.1
          Eval:
            - CELoss:
                weight: 1.0
        Optimizer:
          name: Momentum
          momentum: 0.9
          lr:
            name: Cosine
            learning_rate: 0.1
            warmup_epoch: 1
          regularizer:
            name: 'L2'
            coeff: 0.00003
        DataLoader:
          Train:
            dataset:
              name: ImageNetDataset
              image_root: ./dataset/demo/
              cls_label_path: ./dataset/demo/train_list.txt
              transform_ops:
                - DecodeImage:
                    to_rgb: True
                    channel_first: False
                - RandCropImage:
                    size: 64
                - RandFlipImage:
                    flip_code: 1
                - NormalizeImage:
                    scale: 1.0/255.0
                    mean: [0.485, 0.456, 0.406]
                    std: [0.229, 0.224, 0.225]
                    order: ''
            sampler:
              name: DistributedBatchSampler
              batch_size: 32
              drop_last: False
              shuffle: True
            loader:
              num_workers: 2
              use_shared_memory: True
        Metric:
          Eval:
            - TopkAcc:
                topk: [1, 5]
        Infer:
          infer_imgs: ./images
          batch_size: 10
          transforms:
            - ToCHWImage:
          PostProcess:
            name: Topk
            topk: 5
            class_num: *class_num
        """;
}
