from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    operations = [
        migrations.CreateModel(
            name="Article",
            fields=[
                (
                    "id",
                    models.AutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("title", models.CharField(max_length=50)),
                ("body", models.TextField(blank=True, default="")),
                ("secret", models.CharField(blank=True, default="", max_length=50)),
                ("room", models.CharField(default="lobby", max_length=20)),
            ],
        ),
    ]
