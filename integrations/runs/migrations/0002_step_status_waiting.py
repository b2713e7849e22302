from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="steprun",
            name="status",
            field=models.CharField(
                choices=[
                    ("succeeded", "Succeeded"),
                    ("skipped", "Skipped"),
                    ("waiting", "Waiting"),
                    ("failed", "Failed"),
                ],
                max_length=10,
            ),
        ),
    ]
